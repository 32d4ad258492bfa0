/**
 * Resizes a timm position table [1, 1 + g², D] (class token first) to a grid of `toGrid`
 * patches per side, as timm's `resample_abs_pos_embed` does when pretrained weights meet another
 * image size: the class-token row is kept, the g × g grid is interpolated bicubically
 * (PyTorch's `interpolate(mode="bicubic", align_corners=False)`, a = −0.75, clamped borders).
 * Recent timm passes antialias=True, which changes only shrinking; growing (224 → 512) is equal.
 */
export function resizePosEmbed(table: Float32Array, dim: number, toGrid: number): Float32Array {
  const fromTokens = table.length / dim - 1;
  const from = Math.round(Math.sqrt(fromTokens));
  if (!Number.isInteger(table.length / dim) || from * from !== fromTokens) {
    throw new Error(`resizePosEmbed: ${table.length / dim} rows is not 1 + a square grid`);
  }
  const out = new Float32Array((1 + toGrid * toGrid) * dim);
  out.set(table.subarray(0, dim), 0);
  const wy = cubicWeights(from, toGrid);
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

/** For each output index, the (input index, weight) pairs of PyTorch's bicubic kernel. */
function cubicWeights(inSize: number, outSize: number): [number, number][][] {
  const a = -0.75;
  const k = (t: number) => {
    const x = Math.abs(t);
    if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
    if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
    return 0;
  };
  const scale = inSize / outSize;
  const rows: [number, number][][] = [];
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    const pairs = new Map<number, number>();
    for (let j = -1; j <= 2; j++) {
      const idx = Math.min(Math.max(i0 + j, 0), inSize - 1);
      pairs.set(idx, (pairs.get(idx) ?? 0) + k(j - t));
    }
    rows.push([...pairs.entries()]);
  }
  return rows;
}
