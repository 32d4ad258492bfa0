import { type MaskDecoderConfig, type VitConfig, vitConfig } from "@exits/models";
import { gridOf, type MethodConfig } from "../config/method-config.js";

/** The ViT both stages use, at the crop size of the config. */
export function encoderConfig(c: MethodConfig, attentionLayer = c.extractor.attentionLayer): VitConfig {
  return vitConfig({
    imgSize: c.crop.size,
    patchSize: c.crop.patch,
    embedDim: c.model.embedDim,
    depth: c.model.depth,
    numHeads: c.model.numHeads,
    mlpRatio: c.model.mlpRatio,
    attentionLayer,
  });
}

export function decoderConfig(c: MethodConfig): MaskDecoderConfig {
  const { grid, maskSize } = gridOf(c);
  return { embedDim: c.model.embedDim, grid, outSize: maskSize, channels: c.model.decoderChannels };
}

/** Parameter-name prefixes: timm names below them, so pretrained encoder weights load by name. */
export const ENCODER_PREFIX = "encoder.";
export const HEAD_PREFIX = "head.";
export const DECODER_PREFIX = "decoder.";
