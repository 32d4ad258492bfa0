/**
 * Every tunable number of the method (`method.md`), with its default. A job resolves one of these
 * once (`resolveMethodConfig`), records it in every artifact it writes, and never reads a default
 * from anywhere else.
 */
export interface MethodConfig {
  /** Crop side S and ViT patch size; the patch grid is N = S / patch, the mask R = S / maskStride. */
  crop: { size: number; patch: number; maskStride: number; inferenceMargin: number; trainMarginMax: number };
  /** The ViT shared by extractor and generator (tiny by default so the demo runs on 2 cores). */
  model: { embedDim: number; depth: number; numHeads: number; mlpRatio: number; decoderChannels: number };
  /** Similarity extractor training (MIL loss only, method §3.1). */
  extractor: TrainingConfig & { attentionLayer: number };
  /** Point retrieval (method §3.2–3.4). */
  retrieval: RetrievalConfig;
  /** Generator training (method §3.5–3.6, §4). */
  generator: TrainingConfig & GeneratorLossConfig;
  crf: { iterations: number; zeta: number; low: number; high: number };
  /** Label generation (method §5). */
  export: { threshold: number; batch: number };
  seed: number;
}

export interface TrainingConfig {
  epochs: number;
  batch: number;
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Linear warm-up, in epochs (MAL: one), then cosine decay to minLrFactor × lr. */
  warmupEpochs: number;
  minLrFactor: number;
  /** Save a checkpoint every K optimiser steps (and at the end). */
  checkpointEvery: number;
}

export interface RetrievalConfig {
  /** Seeds moved inward by δ patches (method §3.3). */
  delta: number;
  /** Random-walk steps α. */
  alpha: number;
  /**
   * Thresholds on the N²-scaled score N²·(π_f − π_b), so one setting serves every grid size.
   * mode "fixed": foreground where score ≥ tauFg, background where ≤ tauBg. mode "quantile": per
   * object, the top `fgFraction` of box patches by score (and only those with score > 0) are
   * foreground, the bottom `bgFraction` (score < 0) background — robust to the score scale.
   */
  mode: "fixed" | "quantile";
  tauFg: number;
  tauBg: number;
  fgFraction: number;
  bgFraction: number;
  sinkhornIterations: number;
  sinkhornTolerance: number;
  /** Point dropout: probability that each retrieved point is dropped, per epoch and object. */
  dropout: number;
}

export interface GeneratorLossConfig {
  lambdaPoint: number;
  lambdaMil: number;
  lambdaCrf: number;
  /** λ_crf rises linearly over this many optimiser steps (MAL: 4000 at full scale). */
  crfWarmupSteps: number;
  emaMomentum: number;
  /** Switches for ablations: "mil" trains on the MIL loss alone (box supervision). */
  supervision: "points" | "mil";
  useCrf: boolean;
  usePointDropout: boolean;
  /** Student-only photometric augmentation (MAL probabilities). */
  jitterP: number;
  grayscaleP: number;
  blurP: number;
}

/**
 * Defaults. Where method.md gives a value it is used; where EXITS is silent, MAL's. The retrieval
 * defaults (δ = 1, α = 2, per-object quantiles 0.5 / 0.5) are the choice of the sweep recorded in
 * `bench/quality/RETRIEVAL-SWEEP.md` (`npm run bench:quality`, synthetic benchmark, seed 1): the
 * most net correct labels among settings with both precisions ≥ 0.8; fixed τ reached 90 %
 * precision only at a few percent coverage (method §7 saw the same). `tauFg` / `tauBg` are the
 * fixed-mode values method §7 found usable with a trained ViT.
 */
/** Both training stages: AdamW as MAL (betas 0.9 / 0.9, weight decay 5e-4), one warm-up epoch, cosine to 0.2 × lr. */
const TRAINING_DEFAULTS: TrainingConfig = {
  epochs: 15,
  batch: 32,
  lr: 1e-3,
  weightDecay: 5e-4,
  beta1: 0.9,
  beta2: 0.9,
  warmupEpochs: 1,
  minLrFactor: 0.2,
  checkpointEvery: 50,
};

export const DEFAULT_METHOD_CONFIG: MethodConfig = {
  crop: { size: 64, patch: 8, maskStride: 4, inferenceMargin: 0.3, trainMarginMax: 1.2 },
  model: { embedDim: 128, depth: 4, numHeads: 4, mlpRatio: 4, decoderChannels: 32 },
  extractor: {
    ...TRAINING_DEFAULTS,
    attentionLayer: -1,
  },
  retrieval: {
    delta: 1,
    alpha: 2,
    mode: "quantile",
    tauFg: 0.25,
    tauBg: -0.1,
    fgFraction: 0.5,
    bgFraction: 0.5,
    sinkhornIterations: 50,
    sinkhornTolerance: 1e-4,
    dropout: 0.5,
  },
  generator: {
    ...TRAINING_DEFAULTS,
    lambdaPoint: 1,
    lambdaMil: 4,
    lambdaCrf: 0.5,
    crfWarmupSteps: 100,
    emaMomentum: 0.996,
    supervision: "points",
    useCrf: true,
    usePointDropout: true,
    jitterP: 0.5,
    grayscaleP: 0.2,
    blurP: 0.5,
  },
  crf: { iterations: 100, zeta: 0.1, low: 0.1, high: 0.9 },
  export: { threshold: 0.5, batch: 64 },
  seed: 1,
};

/** A nested partial of the config (what a CLI flag, a job request or a test overrides). */
export type MethodConfigOverrides = { [K in keyof MethodConfig]?: Partial<MethodConfig[K]> | MethodConfig[K] };

/** Thrown when a configuration value is out of range; `field` is the dotted path. */
export class MethodConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`config ${field}: ${reason}`);
    this.name = "MethodConfigError";
  }
}

export function resolveMethodConfig(overrides: MethodConfigOverrides = {}, base = DEFAULT_METHOD_CONFIG): MethodConfig {
  const merged = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [section, values] of Object.entries(overrides)) {
    if (values === undefined) continue;
    if (!(section in merged)) throw new MethodConfigError(section, "unknown section");
    const target = merged[section];
    if (typeof target !== "object" || target === null) {
      merged[section] = values;
      continue;
    }
    for (const [key, value] of Object.entries(values as object)) {
      if (value === undefined) continue;
      if (!(key in target)) throw new MethodConfigError(`${section}.${key}`, "unknown field");
      (target as Record<string, unknown>)[key] = value;
    }
  }
  const cfg = merged as unknown as MethodConfig;
  validate(cfg);
  return cfg;
}

function validate(c: MethodConfig): void {
  const int = (field: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new MethodConfigError(field, `must be an integer in [${min}, ${max}], got ${v}`);
  };
  const num = (field: string, v: number, min: number, max: number, openMin = false) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (openMin && v === min))
      throw new MethodConfigError(field, `must be a number in ${openMin ? "(" : "["}${min}, ${max}], got ${v}`);
  };
  int("crop.size", c.crop.size, 16, 2048);
  int("crop.patch", c.crop.patch, 2, 64);
  if (c.crop.size % c.crop.patch !== 0)
    throw new MethodConfigError("crop.size", `${c.crop.size} is not a multiple of crop.patch ${c.crop.patch}`);
  int("crop.maskStride", c.crop.maskStride, 1, c.crop.patch);
  if (c.crop.patch % c.crop.maskStride !== 0)
    throw new MethodConfigError("crop.maskStride", `must divide crop.patch ${c.crop.patch}, got ${c.crop.maskStride}`);
  num("crop.inferenceMargin", c.crop.inferenceMargin, 0, 4);
  num("crop.trainMarginMax", c.crop.trainMarginMax, 0, 4);
  int("model.embedDim", c.model.embedDim, 8, 4096);
  int("model.depth", c.model.depth, 1, 48);
  int("model.numHeads", c.model.numHeads, 1, 64);
  if (c.model.embedDim % c.model.numHeads !== 0)
    throw new MethodConfigError("model.numHeads", `must divide model.embedDim ${c.model.embedDim}`);
  num("model.mlpRatio", c.model.mlpRatio, 0.25, 16);
  int("model.decoderChannels", c.model.decoderChannels, 4, 1024);
  for (const [name, t] of [
    ["extractor", c.extractor],
    ["generator", c.generator],
  ] as const) {
    int(`${name}.epochs`, t.epochs, 1, 10_000);
    int(`${name}.batch`, t.batch, 1, 4096);
    num(`${name}.lr`, t.lr, 0, 1, true);
    num(`${name}.weightDecay`, t.weightDecay, 0, 1);
    num(`${name}.beta1`, t.beta1, 0, 1);
    num(`${name}.beta2`, t.beta2, 0, 1);
    num(`${name}.warmupEpochs`, t.warmupEpochs, 0, t.epochs);
    num(`${name}.minLrFactor`, t.minLrFactor, 0, 1);
    int(`${name}.checkpointEvery`, t.checkpointEvery, 1);
  }
  int("extractor.attentionLayer", c.extractor.attentionLayer, -c.model.depth, c.model.depth - 1);
  const r = c.retrieval;
  int("retrieval.delta", r.delta, 0, c.crop.size / c.crop.patch);
  int("retrieval.alpha", r.alpha, 1, 64);
  if (r.mode !== "fixed" && r.mode !== "quantile")
    throw new MethodConfigError("retrieval.mode", `must be "fixed" or "quantile", got ${r.mode}`);
  num("retrieval.tauFg", r.tauFg, -1e6, 1e6);
  num("retrieval.tauBg", r.tauBg, -1e6, 1e6);
  if (r.tauBg > r.tauFg) throw new MethodConfigError("retrieval.tauBg", `must be ≤ retrieval.tauFg ${r.tauFg}`);
  num("retrieval.fgFraction", r.fgFraction, 0, 1);
  num("retrieval.bgFraction", r.bgFraction, 0, 1);
  if (r.fgFraction + r.bgFraction > 1)
    throw new MethodConfigError("retrieval.bgFraction", "fgFraction + bgFraction must be ≤ 1");
  int("retrieval.sinkhornIterations", r.sinkhornIterations, 1, 1000);
  num("retrieval.sinkhornTolerance", r.sinkhornTolerance, 0, 1, true);
  num("retrieval.dropout", r.dropout, 0, 1);
  const g = c.generator;
  num("generator.lambdaPoint", g.lambdaPoint, 0, 1e3);
  num("generator.lambdaMil", g.lambdaMil, 0, 1e3);
  num("generator.lambdaCrf", g.lambdaCrf, 0, 1e3);
  int("generator.crfWarmupSteps", g.crfWarmupSteps, 0);
  num("generator.emaMomentum", g.emaMomentum, 0, 1);
  if (g.supervision !== "points" && g.supervision !== "mil")
    throw new MethodConfigError("generator.supervision", `must be "points" or "mil", got ${g.supervision}`);
  for (const k of ["jitterP", "grayscaleP", "blurP"] as const) num(`generator.${k}`, g[k], 0, 1);
  int("crf.iterations", c.crf.iterations, 1, 1000);
  num("crf.zeta", c.crf.zeta, 0, 10, true);
  num("crf.low", c.crf.low, 0, 0.5);
  num("crf.high", c.crf.high, 0.5, 1);
  num("export.threshold", c.export.threshold, 0, 1, true);
  int("export.batch", c.export.batch, 1, 4096);
  int("seed", c.seed, 0, 2 ** 32 - 1);
}

/** Grid N and mask size R of a config. */
export function gridOf(c: MethodConfig): { grid: number; maskSize: number } {
  return { grid: c.crop.size / c.crop.patch, maskSize: c.crop.size / c.crop.maskStride };
}
