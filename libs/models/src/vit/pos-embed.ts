export interface ResizePosEmbedOptions {
  /**
   * timm's `resample_abs_pos_embed` passes antialias=True (the default here): PyTorch's
   * antialiased bicubic, Keys a = −0.5, a support widened by the scale when shrinking and
   * weights renormalised at the border. false: plain `interpolate(mode="bicubic")`, a = −0.75,
   * border indices clamped. The two differ growing as well as shrinking.
   */
  antialias?: boolean;
}

/**
 * Resizes a timm position table [1, 1 + g², D] (class token first) to a grid of `toGrid`
 * patches per side, as timm's `resample_abs_pos_embed` does when pretrained weights meet another
 * image size: the class-token row is kept, the g × g grid is interpolated bicubically
 * (align_corners=False).
 */
export function resizePosEmbed(
  table: Float32Array,
  dim: number,
  toGrid: number,
  opts: ResizePosEmbedOptions = {},
): Float32Array {
  const fromTokens = table.length / dim - 1;
  const from = Math.round(Math.sqrt(fromTokens));
  if (!Number.isInteger(table.length / dim) || from * from !== fromTokens) {
    throw new Error(`resizePosEmbed: ${table.length / dim} rows is not 1 + a square grid`);
  }
  if (from === toGrid) return table.slice();
  const out = new Float32Array((1 + toGrid * toGrid) * dim);
  out.set(table.subarray(0, dim), 0);
  const wy = (opts.antialias ?? true) ? antialiasedCubicWeights(from, toGrid) : cubicWeights(from, toGrid);
  const wx = wy;
  for (let oy = 0; oy < toGrid; oy++) {
    for (let ox = 0; ox < toGrid; ox++) {
      const o = (1 + oy * toGrid + ox) * dim;
      for (const [iy, a] of wy[oy]!) {
        for (const [ix, b] of wx[ox]!) {
          const w = a * b;
          const src = (1 + iy * from + ix) * dim;
          for (let d = 0; d < dim; d++) out[o + d]! += w * table[src + d]!;
        }
      }
    }
  }
  return out;
}

/** Keys' cubic convolution kernel with parameter a. */
function keys(t: number, a: number): number {
  const x = Math.abs(t);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** For each output index, the (input index, weight) pairs of PyTorch's bicubic kernel. */
function cubicWeights(inSize: number, outSize: number): [number, number][][] {
  const scale = inSize / outSize;
  const rows: [number, number][][] = [];
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const pairs = new Map<number, number>();
    for (let j = -1; j <= 2; j++) {
      const idx = Math.min(Math.max(i0 + j, 0), inSize - 1);
      pairs.set(idx, (pairs.get(idx) ?? 0) + keys(j - t, -0.75));
    }
    rows.push([...pairs.entries()]);
  }
  return rows;
}

/**
 * PyTorch's antialiased bicubic (PIL's rule): the kernel is stretched by the scale when
 * shrinking, taps beyond the border are dropped and the rest renormalised.
 */
function antialiasedCubicWeights(inSize: number, outSize: number): [number, number][][] {
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const rows: [number, number][][] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = scale * (o + 0.5);
    // PyTorch truncates these bounds toward zero (a C++ cast), then clips them to the input.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const pairs: [number, number][] = [];
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const w = keys((i - centre + 0.5) * invScale, -0.5);
      pairs.push([i, w]);
      total += w;
    }
    rows.push(total === 0 ? pairs : pairs.map(([i, w]) => [i, w / total]));
  }
  return rows;
}
