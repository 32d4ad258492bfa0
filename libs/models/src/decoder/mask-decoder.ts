import {
  add,
  conv2dBias,
  gelu,
  linear,
  matmul,
  mul,
  param,
  Rng,
  reshape,
  resizeBilinear,
  slice,
  type Tensor,
  transpose,
} from "@exits/graph";

/** Shape of the mask decoder: patch grid N, output side R (a multiple of N), feature channels C (default 64). */
export interface MaskDecoderConfig {
  embedDim: number;
  grid: number;
  outSize: number;
  channels?: number;
}

/** The side after each upsampling stage: doubling from N, the last one capped at R. */
function stageSides(cfg: MaskDecoderConfig): number[] {
  const { grid: n, outSize: r } = cfg;
  if (!Number.isInteger(n) || !Number.isInteger(r) || n < 1 || r < n || r % n !== 0)
    throw new Error(`mask decoder: outSize ${r} must be a multiple of grid ${n}`);
  const sides: number[] = [];
  for (let side = n; side < r; ) {
    side = Math.min(2 * side, r);
    sides.push(side);
  }
  return sides;
}

/** Parameter names and shapes (torch layouts: conv [O, I, kh, kw], linear [out, in]). */
export function maskDecoderParamSpecs(
  cfg: MaskDecoderConfig,
  prefix = "decoder.",
): { name: string; shape: number[] }[] {
  const c = cfg.channels ?? 64;
  const d = cfg.embedDim;
  const specs = [
    { name: `${prefix}proj.weight`, shape: [c, d, 1, 1] },
    { name: `${prefix}proj.bias`, shape: [c] },
  ];
  for (let i = 0; i < stageSides(cfg).length; i++) {
    specs.push({ name: `${prefix}up.${i}.weight`, shape: [c, c, 3, 3] }, { name: `${prefix}up.${i}.bias`, shape: [c] });
  }
  specs.push(
    { name: `${prefix}fuse.weight`, shape: [c, c, 3, 3] },
    { name: `${prefix}fuse.bias`, shape: [c] },
    { name: `${prefix}instance.fc1.weight`, shape: [c, d] },
    { name: `${prefix}instance.fc1.bias`, shape: [c] },
    { name: `${prefix}instance.fc2.weight`, shape: [c, c] },
    { name: `${prefix}instance.fc2.bias`, shape: [c] },
    { name: `${prefix}logit_bias`, shape: [1] },
  );
  return specs;
}

/** He-normal weights (truncated at 2σ), zero biases; seeded. */
export function initMaskDecoderParams(
  cfg: MaskDecoderConfig,
  seed: number,
  prefix = "decoder.",
): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of maskDecoderParamSpecs(cfg, prefix)) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (s.shape.length > 1) {
      const fanIn = s.shape.slice(1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < size; i++) data[i] = rng.truncNormal(std);
    }
    out.set(s.name, data);
  }
  return out;
}

/**
 * A mask decoder after MAL: pixel features from the patch tokens — a 1 × 1 projection to C
 * channels with GELU, then per ×2 stage (the last one capped at R) a bilinear upsampling and a
 * 3 × 3 convolution with GELU, and a final linear 3 × 3 convolution at R × R, so features may be
 * negative — and a per-instance vector from the class token through a two-layer GELU MLP. The
 * logit of each pixel is their dot product / √C plus a learned bias. (MAL pools its instance
 * vector from the patch features and has no scale or bias; the class token is the ViT's own
 * per-crop summary, and 1/√C keeps the initial logits O(1) whatever C.)
 * tokens [B, 1 + N², D] (the encoder's normed tokens) → logits [B, R, R].
 */
export function maskDecoder(tokens: Tensor, cfg: MaskDecoderConfig, prefix = "decoder."): Tensor {
  const [b, t, d] = tokens.shape as [number, number, number];
  const n = cfg.grid;
  if (tokens.rank !== 3 || t !== 1 + n * n || d !== cfg.embedDim)
    throw new Error(`maskDecoder: tokens must be [B, ${1 + n * n}, ${cfg.embedDim}], got [${tokens.shape.join(", ")}]`);
  const c = cfg.channels ?? 64;
  const dt = tokens.dtype;
  const P = (name: string, shape: number[]) => param(prefix + name, shape, dt);
  const patches = transpose(reshape(slice(tokens, [1], [t], [1]), [b, n, n, d]), [0, 3, 1, 2]);
  let x = gelu(conv2dBias(patches, P("proj.weight", [c, d, 1, 1]), P("proj.bias", [c])));
  for (const [i, side] of stageSides(cfg).entries()) {
    x = resizeBilinear(x, side, side);
    x = gelu(conv2dBias(x, P(`up.${i}.weight`, [c, c, 3, 3]), P(`up.${i}.bias`, [c]), { padding: 1 }));
  }
  x = conv2dBias(x, P("fuse.weight", [c, c, 3, 3]), P("fuse.bias", [c]), { padding: 1 });
  const cls = reshape(slice(tokens, [0], [1], [1]), [b, d]);
  const hidden = gelu(linear(cls, P("instance.fc1.weight", [c, d]), P("instance.fc1.bias", [c])));
  const vector = linear(hidden, P("instance.fc2.weight", [c, c]), P("instance.fc2.bias", [c]));
  const r = cfg.outSize;
  const logits = matmul(reshape(vector, [b, 1, c]), reshape(x, [b, c, r * r]));
  return add(reshape(mul(logits, 1 / Math.sqrt(c)), [b, r, r]), P("logit_bias", [1]));
}
