import { sigmoid, type Tensor } from "@exits/graph";
import {
  initMaskDecoderParams,
  initVitParams,
  maskDecoder,
  maskDecoderParamSpecs,
  vitEncoder,
  vitParamSpecs,
} from "@exits/models";
import type { HostTensor } from "@exits/runtime";
import type { MethodConfig } from "../config/method-config.js";
import { DECODER_PREFIX, decoderConfig, ENCODER_PREFIX, encoderConfig } from "./model-shapes.js";

/** The pseudo-label generator (method §3.5): ViT encoder + mask decoder → mask probabilities [B, R, R]. */
export function generatorForward(images: Tensor, c: MethodConfig): { logits: Tensor; mask: Tensor } {
  const enc = vitEncoder(images, encoderConfig(c), ENCODER_PREFIX);
  const logits = maskDecoder(enc.tokens, decoderConfig(c), DECODER_PREFIX);
  return { logits, mask: sigmoid(logits) };
}

/**
 * Seeded initial weights. `encoder` (e.g. the trained extractor's, or a pretrained timm
 * checkpoint's) replaces the random encoder weights by name where given.
 */
export function initGeneratorParams(
  c: MethodConfig,
  seed: number,
  encoder?: ReadonlyMap<string, HostTensor>,
): Map<string, HostTensor> {
  const cfg = encoderConfig(c);
  const out = new Map<string, HostTensor>();
  const vit = initVitParams(cfg, seed, ENCODER_PREFIX);
  for (const s of vitParamSpecs(cfg, ENCODER_PREFIX)) {
    out.set(s.name, encoder?.get(s.name) ?? { dtype: "float32", shape: s.shape, data: vit.get(s.name)! });
  }
  const dcfg = decoderConfig(c);
  const dec = initMaskDecoderParams(dcfg, seed + 1, DECODER_PREFIX);
  for (const s of maskDecoderParamSpecs(dcfg, DECODER_PREFIX))
    out.set(s.name, { dtype: "float32", shape: s.shape, data: dec.get(s.name)! });
  return out;
}
