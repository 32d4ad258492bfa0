import type { Rng } from "@exits/graph";

/** RGB in 0–255. */
export type Colour = [r: number, g: number, b: number];

/** Writes the colour of pixel (x, y) into `out[o..o+2]` (values 0–255, unclamped). */
export type Texture = (x: number, y: number, out: Float32Array, o: number) => void;

export const TEXTURE_KINDS = ["solid", "noise", "stripes", "gradient", "checker"] as const;
export type TextureKind = (typeof TEXTURE_KINDS)[number];

export function randomColour(rng: Rng): Colour {
  return [rng.int(256), rng.int(256), rng.int(256)];
}

export function colourDistance(a: Colour, b: Colour): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** A colour at least `minDistance` away from every colour in `avoid` (best of a few draws). */
export function distinctColour(rng: Rng, avoid: readonly Colour[], minDistance = 90): Colour {
  let best = randomColour(rng);
  let bestD = -1;
  for (let tries = 0; tries < 24; tries++) {
    const c = randomColour(rng);
    const d = Math.min(Infinity, ...avoid.map((a) => colourDistance(a, c)));
    if (d > bestD) {
      best = c;
      bestD = d;
    }
    if (d >= minDistance) break;
  }
  return best;
}

/** Smooth value noise in [0, 1]: random values on a lattice of `cell` pixels, bilinear between. */
function valueNoise(rng: Rng, cell: number): (x: number, y: number) => number {
  const n = 64;
  const lattice = new Float32Array(n * n).map(() => rng.next());
  const ox = rng.uniform(0, n * cell);
  const oy = rng.uniform(0, n * cell);
  return (x, y) => {
    const gx = (x + ox) / cell;
    const gy = (y + oy) / cell;
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    const fx = gx - ix;
    const fy = gy - iy;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const at = (i: number, j: number) => lattice[(((j % n) + n) % n) * n + (((i % n) + n) % n)]!;
    const top = at(ix, iy) * (1 - sx) + at(ix + 1, iy) * sx;
    const bottom = at(ix, iy + 1) * (1 - sx) + at(ix + 1, iy + 1) * sx;
    return top * (1 - sy) + bottom * sy;
  };
}

function mix(a: Colour, b: Colour, t: number, out: Float32Array, o: number): void {
  out[o] = a[0] + (b[0] - a[0]) * t;
  out[o + 1] = a[1] + (b[1] - a[1]) * t;
  out[o + 2] = a[2] + (b[2] - a[2]) * t;
}

/**
 * A random texture of the given kind between two colours. `scale` is a typical feature size in
 * pixels (stripe period, noise cell). Fine grain noise is added to every kind so no region is flat.
 */
export function makeTexture(rng: Rng, kind: TextureKind, a: Colour, b: Colour, scale: number): Texture {
  const grainAmp = rng.uniform(2, 10);
  const grain = valueNoise(rng, 1.5);
  const withGrain =
    (base: Texture): Texture =>
    (x, y, out, o) => {
      base(x, y, out, o);
      const g = (grain(x, y) - 0.5) * 2 * grainAmp;
      out[o] += g;
      out[o + 1] += g;
      out[o + 2] += g;
    };
  const angle = rng.uniform(0, Math.PI);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  switch (kind) {
    case "solid":
      return withGrain((_x, _y, out, o) => mix(a, b, 0.1, out, o));
    case "noise": {
      const noise = valueNoise(rng, Math.max(2, scale));
      const fine = valueNoise(rng, Math.max(1.5, scale / 4));
      return withGrain((x, y, out, o) => mix(a, b, 0.7 * noise(x, y) + 0.3 * fine(x, y), out, o));
    }
    case "stripes": {
      const period = Math.max(3, scale);
      const duty = rng.uniform(0.3, 0.7);
      return withGrain((x, y, out, o) => {
        const t = ((x * ca + y * sa) / period) % 1;
        mix(a, b, (t < 0 ? t + 1 : t) < duty ? 0 : 1, out, o);
      });
    }
    case "gradient": {
      const length = Math.max(8, scale * rng.uniform(3, 8));
      const offset = rng.uniform(0, length);
      return withGrain((x, y, out, o) => {
        const t = Math.min(1, Math.max(0, ((x * ca + y * sa + offset) % (2 * length)) / length));
        mix(a, b, t > 1 ? 2 - t : t, out, o);
      });
    }
    case "checker": {
      const cell = Math.max(3, scale);
      return withGrain((x, y, out, o) => {
        const u = Math.floor((x * ca + y * sa) / cell);
        const v = Math.floor((-x * sa + y * ca) / cell);
        mix(a, b, (u + v) & 1 ? 1 : 0, out, o);
      });
    }
  }
}
