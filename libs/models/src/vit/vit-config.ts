/** A ViT encoder's shape (timm `VisionTransformer` with a class token and learned positions). */
export interface VitConfig {
  /** Square input size in pixels. */
  readonly imgSize: number;
  readonly patchSize: number;
  readonly inChans: number;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  /** MLP hidden size = mlpRatio × embedDim (timm: 4). */
  readonly mlpRatio: number;
  /** timm ViT: 1e-6. */
  readonly layerNormEps: number;
  /** Block whose head-averaged attention is returned; negative counts from the end (default -1, the last). */
  readonly attentionLayer: number;
}

export const vitDefaults = { inChans: 3, mlpRatio: 4, layerNormEps: 1e-6, attentionLayer: -1 } as const;

type Required = "imgSize" | "patchSize" | "embedDim" | "depth" | "numHeads";

/** Fills defaults and checks that the shape is consistent. */
export function vitConfig(c: Pick<VitConfig, Required> & Partial<VitConfig>): VitConfig {
  const cfg: VitConfig = { ...vitDefaults, ...c };
  const positive = ["imgSize", "patchSize", "inChans", "embedDim", "depth", "numHeads"] as const;
  for (const k of positive) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1)
      throw new Error(`vit config: ${k} must be a positive integer, got ${cfg[k]}`);
  }
  if (cfg.imgSize % cfg.patchSize !== 0)
    throw new Error(`vit config: imgSize ${cfg.imgSize} is not a multiple of patchSize ${cfg.patchSize}`);
  if (cfg.embedDim % cfg.numHeads !== 0)
    throw new Error(`vit config: embedDim ${cfg.embedDim} is not divisible by numHeads ${cfg.numHeads}`);
  if (!Number.isInteger(cfg.mlpRatio * cfg.embedDim))
    throw new Error("vit config: mlpRatio × embedDim must be an integer");
  resolveLayer(cfg);
  return cfg;
}

export function gridSize(cfg: VitConfig): number {
  return cfg.imgSize / cfg.patchSize;
}

export function numPatches(cfg: VitConfig): number {
  return gridSize(cfg) ** 2;
}

export function resolveLayer(cfg: VitConfig): number {
  const l = cfg.attentionLayer < 0 ? cfg.depth + cfg.attentionLayer : cfg.attentionLayer;
  if (!Number.isInteger(l) || l < 0 || l >= cfg.depth) {
    throw new Error(`vit config: attentionLayer ${cfg.attentionLayer} is outside 0..${cfg.depth - 1}`);
  }
  return l;
}

/** Well-known timm shapes (weights: `timm/<name>` safetensors on the Hugging Face hub). */
export const timmVariants = {
  vit_tiny_patch16_224: { imgSize: 224, patchSize: 16, embedDim: 192, depth: 12, numHeads: 3 },
  vit_small_patch16_224: { imgSize: 224, patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 },
  vit_base_patch16_224: { imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 },
} as const;
