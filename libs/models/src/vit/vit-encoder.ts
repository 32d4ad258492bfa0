import {
  add,
  concat,
  expand,
  gelu,
  layerNorm,
  linear,
  mean,
  multiHeadSelfAttention,
  param,
  reshape,
  slice,
  type Tensor,
  transpose,
} from "@exits/graph";
import { gridSize, numPatches, resolveLayer, type VitConfig } from "./vit-config.js";

/** What {@link vitEncoder} returns. */
export interface VitOutputs {
  /** All tokens after the final norm, class token first: [B, 1 + N, D]. */
  readonly tokens: Tensor;
  /** Patch tokens after the final norm, row-major over the N = (S/patch)² grid: [B, N, D]. */
  readonly patchTokens: Tensor;
  /**
   * Self-attention of block `attentionLayer`, averaged over heads, restricted to patch tokens
   * (class token row and column removed): [B, N, N] (method §3.1, the similarity S).
   */
  readonly attention: Tensor;
  readonly attentionLayer: number;
}

/**
 * The ViT encoder as a graph, parameters named as timm names them (with an optional prefix such
 * as "encoder."), so timm's pretrained safetensors load by name. `images`: [B, C, S, S] float.
 *
 * The patch embedding is timm's stride-`patch` convolution written as patchify + matmul: the
 * same arithmetic, with a matmul gradient instead of a convolution's.
 */
export function vitEncoder(images: Tensor, cfg: VitConfig, prefix = ""): VitOutputs {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (images.rank !== 4 || c !== cfg.inChans || h !== cfg.imgSize || w !== cfg.imgSize) {
    throw new Error(
      `vitEncoder: images must be [B, ${cfg.inChans}, ${cfg.imgSize}, ${cfg.imgSize}], got [${images.shape.join(", ")}]`,
    );
  }
  const dt = images.dtype;
  const d = cfg.embedDim;
  const p = cfg.patchSize;
  const g = gridSize(cfg);
  const n = numPatches(cfg);
  const P = (name: string, shape: number[]) => param(prefix + name, shape, dt);

  // [B, C, g, p, g, p] → [B, g, g, C, p, p] → [B, N, C·p·p]: each row is one patch in the
  // (C, kh, kw) order of the convolution weight [D, C, p, p].
  const patches = reshape(transpose(reshape(images, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [b, n, c * p * p]);
  const projW = reshape(P("patch_embed.proj.weight", [d, c, p, p]), [d, c * p * p]);
  let x = linear(patches, projW, P("patch_embed.proj.bias", [d]));

  const cls = expand(P("cls_token", [1, 1, d]), [b, 1, d]);
  x = add(concat([cls, x], 1), P("pos_embed", [1, n + 1, d]));

  const layer = resolveLayer(cfg);
  let attention: Tensor | undefined;
  const hidden = cfg.mlpRatio * d;
  for (let i = 0; i < cfg.depth; i++) {
    const k = `blocks.${i}.`;
    const y = layerNorm(x, P(`${k}norm1.weight`, [d]), P(`${k}norm1.bias`, [d]), cfg.layerNormEps);
    const attn = multiHeadSelfAttention(
      y,
      {
        qkvWeight: P(`${k}attn.qkv.weight`, [3 * d, d]),
        qkvBias: P(`${k}attn.qkv.bias`, [3 * d]),
        projWeight: P(`${k}attn.proj.weight`, [d, d]),
        projBias: P(`${k}attn.proj.bias`, [d]),
      },
      cfg.numHeads,
    );
    x = add(x, attn.out);
    if (i === layer) attention = mean(slice(attn.probs, [1, 1], [n + 1, n + 1], [2, 3]), 1);
    const z = layerNorm(x, P(`${k}norm2.weight`, [d]), P(`${k}norm2.bias`, [d]), cfg.layerNormEps);
    const m = linear(
      gelu(linear(z, P(`${k}mlp.fc1.weight`, [hidden, d]), P(`${k}mlp.fc1.bias`, [hidden]))),
      P(`${k}mlp.fc2.weight`, [d, hidden]),
      P(`${k}mlp.fc2.bias`, [d]),
    );
    x = add(x, m);
  }
  const tokens = layerNorm(x, P("norm.weight", [d]), P("norm.bias", [d]), cfg.layerNormEps);
  return { tokens, patchTokens: slice(tokens, [1], [n + 1], [1]), attention: attention!, attentionLayer: layer };
}
