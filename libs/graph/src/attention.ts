import { add, mul } from "./elementwise.js";
import { fail } from "./errors.js";
import { matmul } from "./matmul.js";
import { reshape, slice, transpose } from "./movement.js";
import { linear, softmax } from "./nn.js";
import type { Tensor } from "./tensor.js";

/** Options of {@link attention} and {@link multiHeadSelfAttention}. */
export interface AttentionOptions {
  /** Multiplies q (default 1/sqrt(Dh)). */
  scale?: number;
  /** Added to the scores before the softmax (broadcast to [B, H, T, T]). */
  mask?: Tensor;
}

/** Scaled dot-product attention on [B, H, T, Dh]; `kT` is k already transposed to [B, H, Dh, T]. */
function attend(q: Tensor, kT: Tensor, v: Tensor, opts: AttentionOptions): { out: Tensor; probs: Tensor } {
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[q.rank - 1]!);
  let scores = matmul(mul(q, scale), kT);
  if (opts.mask) scores = add(scores, opts.mask);
  const probs = softmax(scores, -1);
  return { out: matmul(probs, v), probs };
}

/** softmax(q kᵀ · scale + mask) v for q, k, v of shape [..., T, Dh]. */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: AttentionOptions = {},
): { out: Tensor; probs: Tensor } {
  if (q.rank < 2) fail("attention", "q needs rank >= 2");
  const perm = [...k.shape.keys()];
  perm.splice(k.rank - 2, 2, k.rank - 1, k.rank - 2);
  return attend(q, transpose(k, perm), v, opts);
}

/** The weights of one timm `Attention` module, torch layout [out, in]. */
export interface MultiHeadParams {
  /** [3D, D], rows ordered q, k, v (timm `attn.qkv.weight`). */
  qkvWeight: Tensor;
  qkvBias?: Tensor;
  /** [D, D] (timm `attn.proj.weight`). */
  projWeight: Tensor;
  projBias?: Tensor;
}

/** timm-style multi-head self-attention on x [B, T, D]; probs are [B, heads, T, T]. */
export function multiHeadSelfAttention(
  x: Tensor,
  p: MultiHeadParams,
  heads: number,
  opts: AttentionOptions = {},
): { out: Tensor; probs: Tensor } {
  if (x.rank !== 3) fail("multiHeadSelfAttention", "x must be [B, T, D]");
  const [b, t, d] = x.shape as [number, number, number];
  if (d % heads !== 0) fail("multiHeadSelfAttention", `dim ${d} not divisible by ${heads} heads`);
  const dh = d / heads;
  // One [B·T, D] @ [D, 3D] product (timm's layout), then one transpose to [3, B, H, T, Dh]
  // whose q, k, v slices are contiguous; kᵀ stays a view that the matmul takes transposed.
  // The slices' gradients are disjoint pieces of one tensor, lowered as a single Concat.
  const qkv = transpose(reshape(linear(x, p.qkvWeight, p.qkvBias), [b, t, 3, heads, dh]), [2, 0, 3, 1, 4]);
  const part = (i: number) => reshape(slice(qkv, [i], [i + 1], [0]), [b, heads, t, dh]);
  const q = part(0);
  const kT = transpose(part(1), [0, 1, 3, 2]);
  const v = part(2);
  const { out, probs } = attend(q, kT, v, opts);
  const merged = reshape(transpose(out, [0, 2, 1, 3]), [b, t, d]);
  return { out: linear(merged, p.projWeight, p.projBias), probs };
}
