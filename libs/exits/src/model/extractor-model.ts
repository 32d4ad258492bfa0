import { reshape, sigmoid, type Tensor } from "@exits/graph";
import { initVitParams, patchMaskHead, vitEncoder, vitParamSpecs } from "@exits/models";
import type { HostTensor } from "@exits/runtime";
import type { MethodConfig } from "../config/method-config.js";
import { ENCODER_PREFIX, encoderConfig, HEAD_PREFIX } from "./model-shapes.js";

/**
 * The similarity extractor (method §3.1): the ViT encoder and a per-patch mask head, trained on
 * the MIL loss only. `mask` is the head's per-patch probability on the N × N grid; `attention` the
 * head-averaged self-attention over patch tokens of the configured layer, S ∈ [B, N², N²].
 */
export function extractorForward(images: Tensor, c: MethodConfig): { mask: Tensor; attention: Tensor } {
  const cfg = encoderConfig(c);
  const enc = vitEncoder(images, cfg, ENCODER_PREFIX);
  const [b] = images.shape as [number];
  const grid = c.crop.size / c.crop.patch;
  const mask = reshape(sigmoid(patchMaskHead(enc.patchTokens, HEAD_PREFIX)), [b, grid, grid]);
  return { mask, attention: enc.attention };
}

/** Seeded initial weights of the extractor, as host tensors by parameter name. */
export function initExtractorParams(c: MethodConfig, seed: number): Map<string, HostTensor> {
  const cfg = encoderConfig(c);
  const values = initVitParams(cfg, seed, ENCODER_PREFIX);
  const out = new Map<string, HostTensor>();
  for (const s of vitParamSpecs(cfg, ENCODER_PREFIX))
    out.set(s.name, { dtype: "float32", shape: s.shape, data: values.get(s.name)! });
  out.set(`${HEAD_PREFIX}weight`, { dtype: "float32", shape: [1, cfg.embedDim], data: new Float32Array(cfg.embedDim) });
  out.set(`${HEAD_PREFIX}bias`, { dtype: "float32", shape: [1], data: new Float32Array(1) });
  return out;
}
