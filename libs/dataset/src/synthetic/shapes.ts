import type { Rng } from "@exits/graph";
import type { BinaryMask } from "../mask/mask-types.js";

/** Shape families of the synthetic benchmark; each is one category. */
export const SHAPE_FAMILIES = ["ellipse", "polygon", "star", "rounded-rect", "blob", "ring"] as const;
export type ShapeFamily = (typeof SHAPE_FAMILIES)[number];

/**
 * A shape in its own frame: `inside(u, v)` for a point relative to the centre, before rotation.
 * `radius` bounds |(u, v)| over the shape.
 */
export interface Shape {
  family: ShapeFamily;
  radius: number;
  inside(u: number, v: number): boolean;
}

function pointInPolygon(xs: Float64Array, ys: Float64Array, u: number, v: number): boolean {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i]! > v !== ys[j]! > v && u < ((xs[j]! - xs[i]!) * (v - ys[i]!)) / (ys[j]! - ys[i]!) + xs[i]!) {
      inside = !inside;
    }
  }
  return inside;
}

function radialPolygon(radii: number[]): { xs: Float64Array; ys: Float64Array } {
  const n = radii.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    xs[i] = radii[i]! * Math.cos(t);
    ys[i] = radii[i]! * Math.sin(t);
  }
  return { xs, ys };
}

/** A random shape of the family with overall size `r` (about its outer radius in pixels). */
export function makeShape(rng: Rng, family: ShapeFamily, r: number): Shape {
  switch (family) {
    case "ellipse": {
      const rx = r;
      const ry = r * rng.uniform(0.35, 1);
      return { family, radius: r, inside: (u, v) => (u / rx) ** 2 + (v / ry) ** 2 <= 1 };
    }
    case "polygon": {
      const n = 3 + rng.int(6);
      const radii = Array.from({ length: n }, () => r * rng.uniform(0.6, 1));
      const { xs, ys } = radialPolygon(radii);
      return { family, radius: r, inside: (u, v) => pointInPolygon(xs, ys, u, v) };
    }
    case "star": {
      const k = 4 + rng.int(4);
      const inner = rng.uniform(0.35, 0.6);
      const radii = Array.from({ length: 2 * k }, (_, i) => (i % 2 === 0 ? r : r * inner));
      const { xs, ys } = radialPolygon(radii);
      return { family, radius: r, inside: (u, v) => pointInPolygon(xs, ys, u, v) };
    }
    case "rounded-rect": {
      const hw = r * rng.uniform(0.5, 0.7);
      const hh = r * rng.uniform(0.25, 0.7);
      const c = Math.min(hw, hh) * rng.uniform(0.1, 0.6);
      return {
        family,
        radius: Math.hypot(hw, hh),
        inside: (u, v) => {
          const dx = Math.max(0, Math.abs(u) - (hw - c));
          const dy = Math.max(0, Math.abs(v) - (hh - c));
          return Math.abs(u) <= hw && Math.abs(v) <= hh && dx * dx + dy * dy <= c * c;
        },
      };
    }
    case "blob": {
      const terms = Array.from({ length: 2 + rng.int(4) }, (_, i) => ({
        k: i + 2,
        a: rng.uniform(0.04, 0.22) / (1 + i * 0.5),
        phase: rng.uniform(0, 2 * Math.PI),
      }));
      const total = terms.reduce((s, t) => s + t.a, 0);
      const base = r / (1 + total);
      return {
        family,
        radius: r,
        inside: (u, v) => {
          const t = Math.atan2(v, u);
          let rr = 1;
          for (const term of terms) rr += term.a * Math.sin(term.k * t + term.phase);
          return u * u + v * v <= (base * rr) ** 2;
        },
      };
    }
    case "ring": {
      const hole = r * rng.uniform(0.35, 0.6);
      return {
        family,
        radius: r,
        inside: (u, v) => {
          const d = u * u + v * v;
          return d <= r * r && d >= hole * hole;
        },
      };
    }
  }
}

/** A placed shape: centre, rotation, and per-axis squash applied before rotation. */
export interface ShapePose {
  cx: number;
  cy: number;
  angle: number;
}

/** Rasterises a placed shape (pixel centres inside) into a full-image mask. */
export function rasterShape(shape: Shape, pose: ShapePose, width: number, height: number): BinaryMask {
  const data = new Uint8Array(width * height);
  const { cx, cy, angle } = pose;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const r = shape.radius + 1;
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (shape.inside(c * dx + s * dy, -s * dx + c * dy)) data[y * width + x] = 1;
    }
  }
  return { width, height, data };
}

/** A straight bar of half-width `halfWidth` through (cx, cy) at `angle`, across the whole image. */
export function rasterBar(cx: number, cy: number, angle: number, halfWidth: number, width: number, height: number) {
  const data = new Uint8Array(width * height);
  // Unit normal of the bar's axis: distance of a pixel centre to the axis is |n · (p − c)|.
  const nx = -Math.sin(angle);
  const ny = Math.cos(angle);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs(nx * (x + 0.5 - cx) + ny * (y + 0.5 - cy)) <= halfWidth) data[y * width + x] = 1;
    }
  }
  return { width, height, data } satisfies BinaryMask;
}
