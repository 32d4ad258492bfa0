import { linear, param, reshape, type Tensor } from "@exits/graph";

/**
 * A linear per-patch mask head: patch tokens [B, N, D] → mask logits [B, N] (one per patch).
 * The lightest head that lets an encoder be trained on a mask objective (the MIL-trained
 * similarity extractor, method §3.1, and the learning test). Parameters `<prefix>weight` [1, D]
 * and `<prefix>bias` [1].
 */
export function patchMaskHead(patchTokens: Tensor, prefix = "mask_head."): Tensor {
  const [b, n, d] = patchTokens.shape as [number, number, number];
  const dt = patchTokens.dtype;
  return reshape(linear(patchTokens, param(`${prefix}weight`, [1, d], dt), param(`${prefix}bias`, [1], dt)), [b, n]);
}
