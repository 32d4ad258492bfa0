import { Rng, type TypedArray } from "@exits/graph";
import { resizePosEmbed } from "./pos-embed.js";
import { gridSize, numPatches, type VitConfig } from "./vit-config.js";

/** One parameter's timm name and shape. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Every parameter of the encoder, named exactly as timm's VisionTransformer state dict names it. */
export function vitParamSpecs(cfg: VitConfig, prefix = ""): ParamSpec[] {
  const d = cfg.embedDim;
  const hidden = cfg.mlpRatio * d;
  const p = cfg.patchSize;
  const specs: ParamSpec[] = [
    { name: "cls_token", shape: [1, 1, d] },
    { name: "pos_embed", shape: [1, numPatches(cfg) + 1, d] },
    { name: "patch_embed.proj.weight", shape: [d, cfg.inChans, p, p] },
    { name: "patch_embed.proj.bias", shape: [d] },
  ];
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    specs.push(
      { name: `${b}.norm1.weight`, shape: [d] },
      { name: `${b}.norm1.bias`, shape: [d] },
      { name: `${b}.attn.qkv.weight`, shape: [3 * d, d] },
      { name: `${b}.attn.qkv.bias`, shape: [3 * d] },
      { name: `${b}.attn.proj.weight`, shape: [d, d] },
      { name: `${b}.attn.proj.bias`, shape: [d] },
      { name: `${b}.norm2.weight`, shape: [d] },
      { name: `${b}.norm2.bias`, shape: [d] },
      { name: `${b}.mlp.fc1.weight`, shape: [hidden, d] },
      { name: `${b}.mlp.fc1.bias`, shape: [hidden] },
      { name: `${b}.mlp.fc2.weight`, shape: [d, hidden] },
      { name: `${b}.mlp.fc2.bias`, shape: [d] },
    );
  }
  specs.push({ name: "norm.weight", shape: [d] }, { name: "norm.bias", shape: [d] });
  return specs.map((s) => ({ name: prefix + s.name, shape: s.shape }));
}

/**
 * timm's initialisation for training from scratch: truncated normal (σ 0.02) for linear weights
 * and the position table, σ 1e-6 normal for the class token, zero biases, unit LayerNorm scales.
 * The patch projection also gets σ 0.02 (timm keeps PyTorch's Conv2d default there). Seeded.
 */
export function initVitParams(cfg: VitConfig, seed: number, prefix = ""): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of vitParamSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const leaf = s.name.split(".").pop();
    if (s.name === "cls_token") for (let i = 0; i < n; i++) data[i] = rng.normal() * 1e-6;
    else if (leaf === "weight" && /norm/.test(s.name)) data.fill(1);
    else if (leaf === "bias") data.fill(0);
    else for (let i = 0; i < n; i++) data[i] = rng.truncNormal(0.02);
    out.set(prefix + s.name, data);
  }
  return out;
}

/** Differences between a weight file's tensors and what the encoder needs, by name. */
export interface WeightCheck {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly wrongShape: { name: string; want: readonly number[]; got: readonly number[] }[];
}

/**
 * Compares available tensors (e.g. a timm safetensors file) against the encoder's parameters.
 * `unexpected` lists tensors the encoder does not use (a classifier `head.*`, say): not an error.
 */
export function checkVitWeights(
  cfg: VitConfig,
  available: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  prefix = "",
): WeightCheck {
  const specs = vitParamSpecs(cfg, prefix);
  const wanted = new Set(specs.map((s) => s.name));
  const missing: string[] = [];
  const wrongShape: WeightCheck["wrongShape"] = [];
  for (const s of specs) {
    const t = available.get(s.name);
    if (!t) missing.push(s.name);
    else if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i]))
      wrongShape.push({ name: s.name, want: s.shape, got: t.shape });
  }
  const unexpected = [...available.keys()].filter((k) => !wanted.has(k));
  return { missing, unexpected, wrongShape };
}

/**
 * Picks the encoder's parameters out of pretrained tensors (e.g. a timm safetensors file read
 * with @exits/runtime), by timm name. A position table for another image size is resized by
 * timm's rule (antialiased bicubic, `resizePosEmbed`); anything else missing or of the wrong
 * shape is an error listing every problem. Tensors the encoder does not use (`head.*`, ...) are ignored.
 */
export function vitParamsFromWeights(
  cfg: VitConfig,
  weights: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: TypedArray }>,
  prefix = "",
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const problems: string[] = [];
  for (const s of vitParamSpecs(cfg)) {
    const t = weights.get(prefix + s.name);
    if (!t) {
      problems.push(`missing ${prefix + s.name}`);
      continue;
    }
    if (t.data instanceof BigInt64Array) {
      problems.push(`${prefix + s.name}: integer tensor`);
      continue;
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (same) out.set(s.name, data);
    else if (s.name === "pos_embed" && t.shape.length === 3 && t.shape[2] === cfg.embedDim) {
      out.set(s.name, resizePosEmbed(data, cfg.embedDim, gridSize(cfg)));
    } else problems.push(`${prefix + s.name}: shape [${t.shape.join(", ")}], encoder needs [${s.shape.join(", ")}]`);
  }
  if (problems.length) throw new Error(`vit weights do not fit the encoder: ${problems.join("; ")}`);
  return out;
}
