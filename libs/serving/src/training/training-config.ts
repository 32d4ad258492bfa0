import {
  type AugmentationConfig,
  type ExecutionConfig,
  ExecutionProvider,
  type ExtractorTrainingConfig,
  type GeneratorTrainingConfig,
  type LossConfig,
  type OptimizerConfig,
  type ScheduleConfig,
  type VitConfig,
} from "@exits/contracts";
import { type MethodConfig, type TrainingConfig, trainingShape } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import {
  applyCrfConfig,
  applyCropConfig,
  applyRetrievalConfig,
  applySimilarityConfig,
  check,
  crfConfigToWire,
  cropConfigToWire,
  fieldPath,
  present,
  resolveOnto,
  retrievalConfigToWire,
  similarityConfigToWire,
} from "../config/index.js";
import {
  DEFAULT_LOG_EVERY_STEPS,
  IMPLEMENTED,
  type JobExecution,
  WIRE_TRAINING_DEFAULTS,
} from "./training-defaults.js";
import { onlyValue } from "./wire-values.js";

/** A training stage's settings resolved from the wire: the MethodConfig plus what lives beside it. */
export interface TrainingSettings<W> {
  config: MethodConfig;
  execution: JobExecution;
  logEverySteps: number;
  /** The wire's checkpoint_every_steps (0 = epoch ends; MethodConfig holds the step count used). */
  checkpointEverySteps: number;
  /** The fully resolved wire config (resolved_spec). */
  wire: W;
}

/** Defaults for unset ExecutionConfig fields: the serving process's own. */
export interface ServiceExecutionDefaults {
  provider: JobExecution["provider"];
  intraOpThreads: number;
}

/**
 * ExtractorTrainingConfig (path `prefix`) → MethodConfig on the proto's defaults. `objects` is the
 * training set's size (checkpoint_every_steps = 0 means "epoch ends", a step count that depends on it).
 */
export function extractorSettingsFromWire(
  wire: ExtractorTrainingConfig | null | undefined,
  prefix: string,
  objects: number,
  service: ServiceExecutionDefaults,
): TrainingSettings<ExtractorTrainingConfig> {
  const w = present(wire) ?? ({} as Partial<ExtractorTrainingConfig>);
  const f = (name: string) => fieldPath(prefix, name);
  let c = architecture(WIRE_TRAINING_DEFAULTS, present(w.crop)?.cropSize, present(w.vit), prefix);
  const head = present(w.head);
  const { grid } = { grid: c.crop.size / c.crop.patch };
  onlyValue(
    f("head.mask_resolution"),
    head?.maskResolution,
    grid,
    `${grid} (the MIL head scores each of the N × N patches)`,
  );
  onlyValue(f("head.hidden_channels"), head?.hiddenChannels, 0, "0 (the MIL head is one linear layer per patch)");
  c = applyCropConfig(c, w.crop, f("crop"), { use: "training" });
  c = applySimilarityConfig(c, w.similarity, f("similarity"));
  const loss = present(w.loss);
  for (const [name, v] of [
    ["lambda_point", loss?.lambdaPoint],
    ["lambda_mil", loss?.lambdaMil],
    ["lambda_crf", loss?.lambdaCrf],
    ["lambda_crf_warmup_steps", loss?.lambdaCrfWarmupSteps],
  ] as const)
    if (v !== undefined)
      throw new InvalidArgumentError(f(`loss.${name}`), "is not used by the extractor (its loss is L_mil alone)");
  diceEpsilon(loss, f("loss"));
  // trainExtractor crops with random margins and flips but applies no photometric augmentation.
  augmentation(present(w.augmentation), f("augmentation"), { jitterP: 0, grayscaleP: 0, blurP: 0 });
  const t = training(c, "extractor", present(w.optimizer), present(w.schedule), prefix, objects);
  c = t.config;
  const { seed, execution } = executionFromWire(present(w.execution), f("execution"), service);
  c = resolveOnto(c, { seed }, { seed: f("execution.seed") });
  return {
    config: c,
    execution,
    logEverySteps: t.logEverySteps,
    checkpointEverySteps: t.checkpointEverySteps,
    wire: extractorConfigToWire(c, { ...t, execution }),
  };
}

/** How often a stage checkpoints and reports, and where it runs: what a wire config holds beside the MethodConfig. */
export interface WireStageOptions {
  checkpointEverySteps: number;
  logEverySteps: number;
  execution: JobExecution;
}

/**
 * The fully resolved ExtractorTrainingConfig of `c` (resolved_spec, and what a client sends to
 * train exactly `c`'s extractor: `exits pipeline --remote`).
 */
export function extractorConfigToWire(c: MethodConfig, o: WireStageOptions): ExtractorTrainingConfig {
  return {
    crop: cropConfigToWire(c),
    vit: vitToWire(c),
    head: { maskResolution: c.crop.size / c.crop.patch, hiddenChannels: 0 },
    similarity: similarityConfigToWire(c),
    loss: { diceEpsilon: IMPLEMENTED.diceEpsilon },
    optimizer: optimizerToWire(c.extractor),
    schedule: scheduleToWire(c.extractor, o.checkpointEverySteps, o.logEverySteps),
    augmentation: augmentationToWire({ jitterP: 0, grayscaleP: 0, blurP: 0 }),
    execution: executionToWire(o.execution, c.seed),
  };
}

/**
 * GeneratorTrainingConfig (path `prefix`) onto the frozen extractor's configuration `extractor`
 * (its manifest): crop size, ViT, similarity and retrieval default to the extractor's (the encoder
 * starts from its weights, the retrieval runs on it); the generator's own settings to the proto's.
 */
export function generatorSettingsFromWire(
  wire: GeneratorTrainingConfig | null | undefined,
  prefix: string,
  extractor: MethodConfig,
  objects: number,
  service: ServiceExecutionDefaults,
): TrainingSettings<GeneratorTrainingConfig> {
  const w = present(wire) ?? ({} as Partial<GeneratorTrainingConfig>);
  const f = (name: string) => fieldPath(prefix, name);
  const vit = present(w.vit);
  const same = (name: string, v: number | undefined, want: number) => {
    if (v !== undefined && v !== want)
      throw new InvalidArgumentError(
        f(`vit.${name}`),
        `must be unset or equal the extractor's ${want} (the encoder starts from its weights), got ${v}`,
      );
  };
  same("patch_size", vit?.patchSize, extractor.crop.patch);
  same("embed_dim", vit?.embedDim, extractor.model.embedDim);
  same("depth", vit?.depth, extractor.model.depth);
  same("num_heads", vit?.numHeads, extractor.model.numHeads);
  same("mlp_ratio", vit?.mlpRatio, extractor.model.mlpRatio);
  onlyValue(f("vit.drop_path_rate"), vit?.dropPathRate, IMPLEMENTED.dropPathRate);
  const d = WIRE_TRAINING_DEFAULTS;
  // The extractor's architecture, similarity and retrieval; everything else from the proto defaults.
  let c = resolveOnto(
    d,
    {
      crop: extractor.crop,
      model: extractor.model,
      extractor: { attentionLayer: extractor.extractor.attentionLayer },
      retrieval: extractor.retrieval,
    },
    {},
  );
  const decoder = present(w.decoder);
  const S = c.crop.size;
  const R = decoder?.maskResolution ?? S / 4;
  if (!Number.isInteger(R) || R < 1 || S % R !== 0)
    throw new InvalidArgumentError(f("decoder.mask_resolution"), `must divide crop_size ${S}, got ${R}`);
  c = resolveOnto(
    c,
    { crop: { maskStride: S / R }, model: { decoderChannels: decoder?.hiddenChannels ?? d.model.decoderChannels } },
    { "crop.maskStride": f("decoder.mask_resolution"), "model.decoderChannels": f("decoder.hidden_channels") },
  );
  c = applyCropConfig(c, w.crop, f("crop"), { use: "training" });
  c = applySimilarityConfig(c, w.similarity, f("similarity"));
  c = applyRetrievalConfig(c, w.retrieval, f("retrieval"));
  const dropout = present(w.pointDropout);
  if (dropout?.foreground !== undefined)
    check.range(f("point_dropout.foreground"), dropout.foreground, 0, 1, { max: true });
  if (dropout?.background !== undefined)
    check.range(f("point_dropout.background"), dropout.background, 0, 1, { max: true });
  const rate = dropout?.foreground ?? dropout?.background ?? c.retrieval.dropout;
  if ((dropout?.foreground ?? rate) !== (dropout?.background ?? rate))
    throw new InvalidArgumentError(
      f("point_dropout.background"),
      `only the foreground rate ${dropout?.foreground} is supported (one dropout rate for both kinds of point)`,
    );
  const loss = present(w.loss);
  diceEpsilon(loss, f("loss"));
  if (w.emaMomentum !== undefined) check.range(f("ema_momentum"), w.emaMomentum, 0, 1, { max: true });
  const aug = augmentation(present(w.augmentation), f("augmentation"), d.generator);
  c = resolveOnto(
    c,
    {
      retrieval: { dropout: rate },
      generator: {
        ...(loss?.lambdaPoint !== undefined ? { lambdaPoint: loss.lambdaPoint } : {}),
        ...(loss?.lambdaMil !== undefined ? { lambdaMil: loss.lambdaMil } : {}),
        ...(loss?.lambdaCrf !== undefined ? { lambdaCrf: loss.lambdaCrf } : {}),
        ...(loss?.lambdaCrfWarmupSteps !== undefined ? { crfWarmupSteps: loss.lambdaCrfWarmupSteps } : {}),
        ...(w.emaMomentum !== undefined ? { emaMomentum: w.emaMomentum } : {}),
        ...aug,
      },
    },
    {
      "retrieval.dropout": f("point_dropout.foreground"),
      "generator.lambdaPoint": f("loss.lambda_point"),
      "generator.lambdaMil": f("loss.lambda_mil"),
      "generator.lambdaCrf": f("loss.lambda_crf"),
      "generator.crfWarmupSteps": f("loss.lambda_crf_warmup_steps"),
      "generator.emaMomentum": f("ema_momentum"),
      "generator.jitterP": f("augmentation.jitter_probability"),
      "generator.grayscaleP": f("augmentation.grayscale_probability"),
      "generator.blurP": f("augmentation.blur_probability"),
    },
  );
  c = applyCrfConfig(c, w.crf, f("crf"));
  const t = training(c, "generator", present(w.optimizer), present(w.schedule), prefix, objects);
  c = t.config;
  const { seed, execution } = executionFromWire(present(w.execution), f("execution"), service);
  c = resolveOnto(c, { seed }, { seed: f("execution.seed") });
  return {
    config: c,
    execution,
    logEverySteps: t.logEverySteps,
    checkpointEverySteps: t.checkpointEverySteps,
    wire: generatorConfigToWire(c, { ...t, execution }),
  };
}

/** The fully resolved GeneratorTrainingConfig of `c` (resolved_spec; what a client sends to train `c`'s generator). */
export function generatorConfigToWire(c: MethodConfig, o: WireStageOptions): GeneratorTrainingConfig {
  const g = c.generator;
  return {
    crop: cropConfigToWire(c),
    vit: vitToWire(c),
    decoder: { maskResolution: c.crop.size / c.crop.maskStride, hiddenChannels: c.model.decoderChannels },
    similarity: similarityConfigToWire(c),
    retrieval: retrievalConfigToWire(c),
    pointDropout: { foreground: c.retrieval.dropout, background: c.retrieval.dropout },
    loss: {
      lambdaPoint: g.lambdaPoint,
      lambdaMil: g.lambdaMil,
      lambdaCrf: g.lambdaCrf,
      lambdaCrfWarmupSteps: g.crfWarmupSteps,
      diceEpsilon: IMPLEMENTED.diceEpsilon,
    },
    crf: crfConfigToWire(c.crf),
    emaMomentum: g.emaMomentum,
    optimizer: optimizerToWire(g),
    schedule: scheduleToWire(g, o.checkpointEverySteps, o.logEverySteps),
    augmentation: augmentationToWire(g),
    execution: executionToWire(o.execution, c.seed),
  };
}

/** Crop size and ViT of a new extractor (onto the proto defaults); pretrained_weights is checked by the spec. */
function architecture(
  base: MethodConfig,
  cropSize: number | undefined,
  vit: VitConfig | undefined,
  prefix: string,
): MethodConfig {
  const f = (name: string) => fieldPath(prefix, name);
  onlyValue(f("vit.drop_path_rate"), vit?.dropPathRate, IMPLEMENTED.dropPathRate);
  const patch = vit?.patchSize ?? base.crop.patch;
  if (vit?.mlpRatio !== undefined) check.finite(f("vit.mlp_ratio"), vit.mlpRatio);
  return resolveOnto(
    base,
    {
      crop: { size: cropSize ?? base.crop.size, patch, maskStride: gcd(patch, base.crop.maskStride) },
      model: {
        ...(vit?.embedDim !== undefined ? { embedDim: vit.embedDim } : {}),
        ...(vit?.depth !== undefined ? { depth: vit.depth } : {}),
        ...(vit?.numHeads !== undefined ? { numHeads: vit.numHeads } : {}),
        ...(vit?.mlpRatio !== undefined ? { mlpRatio: vit.mlpRatio } : {}),
      },
    },
    {
      "crop.size": f("crop.crop_size"),
      "crop.patch": f("vit.patch_size"),
      "crop.maskStride": f("vit.patch_size"),
      "model.embedDim": f("vit.embed_dim"),
      "model.depth": f("vit.depth"),
      "model.numHeads": f("vit.num_heads"),
      "model.mlpRatio": f("vit.mlp_ratio"),
    },
  );
}

function training(
  c: MethodConfig,
  stage: "extractor" | "generator",
  optimizer: OptimizerConfig | undefined,
  schedule: ScheduleConfig | undefined,
  prefix: string,
  objects: number,
): { config: MethodConfig; logEverySteps: number; checkpointEverySteps: number } {
  const f = (name: string) => fieldPath(prefix, name);
  const o = optimizer ?? ({} as Partial<OptimizerConfig>);
  const s = schedule ?? ({} as Partial<ScheduleConfig>);
  if (o.eps !== undefined) check.only(f("optimizer.eps"), o.eps, IMPLEMENTED.adamEps, "1e-8");
  if (o.gradClipNorm !== undefined)
    check.only(f("optimizer.grad_clip_norm"), o.gradClipNorm, IMPLEMENTED.gradClipNorm, "0 (no clipping)");
  if (s.logEverySteps !== undefined) check.integer(f("schedule.log_every_steps"), s.logEverySteps, 1, 1_000_000);
  const every = s.checkpointEverySteps ?? 0;
  check.integer(f("schedule.checkpoint_every_steps"), every, 0, 1_000_000_000);
  if (s.epochs !== undefined) check.integer(f("schedule.epochs"), s.epochs, 1, 10_000);
  if (s.batchSize !== undefined) check.integer(f("schedule.batch_size"), s.batchSize, 1, 4096);
  const t = c[stage];
  const epochs = s.epochs ?? t.epochs;
  const batch = s.batchSize ?? t.batch;
  const { stepsPerEpoch } = trainingShape({ ...t, epochs, batch }, Math.max(1, objects));
  const config = resolveOnto(
    c,
    {
      [stage]: {
        epochs,
        batch,
        ...(o.lr !== undefined ? { lr: o.lr } : {}),
        ...(o.beta1 !== undefined ? { beta1: o.beta1 } : {}),
        ...(o.beta2 !== undefined ? { beta2: o.beta2 } : {}),
        ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
        ...(s.warmupEpochs !== undefined ? { warmupEpochs: s.warmupEpochs } : {}),
        ...(s.cosineFloorFraction !== undefined ? { minLrFactor: s.cosineFloorFraction } : {}),
        // runTrainLoop saves every K steps and after the last; K = steps per epoch gives "epoch ends".
        checkpointEvery: every === 0 ? stepsPerEpoch : every,
      },
    },
    {
      [`${stage}.epochs`]: f("schedule.epochs"),
      [`${stage}.batch`]: f("schedule.batch_size"),
      [`${stage}.lr`]: f("optimizer.lr"),
      [`${stage}.beta1`]: f("optimizer.beta1"),
      [`${stage}.beta2`]: f("optimizer.beta2"),
      [`${stage}.weightDecay`]: f("optimizer.weight_decay"),
      [`${stage}.warmupEpochs`]: f("schedule.warmup_epochs"),
      [`${stage}.minLrFactor`]: f("schedule.cosine_floor_fraction"),
      [`${stage}.checkpointEvery`]: f("schedule.checkpoint_every_steps"),
    },
  );
  return { config, logEverySteps: s.logEverySteps ?? DEFAULT_LOG_EVERY_STEPS, checkpointEverySteps: every };
}

function diceEpsilon(loss: LossConfig | undefined, prefix: string): void {
  if (loss?.diceEpsilon !== undefined)
    check.only(fieldPath(prefix, "dice_epsilon"), loss.diceEpsilon, IMPLEMENTED.diceEpsilon, "0.001 (MAL's)");
}

type Photometric = { jitterP: number; grayscaleP: number; blurP: number };

/** The probabilities the stage will use; the fixed strengths accept only their implemented values. */
function augmentation(a: AugmentationConfig | undefined, prefix: string, defaults: Photometric): Photometric {
  const f = (name: string) => fieldPath(prefix, name);
  const implemented = defaults.jitterP === 0 && defaults.grayscaleP === 0 && defaults.blurP === 0;
  const p = (name: string, v: number | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    check.range(f(name), v, 0, 1);
    if (implemented) check.only(f(name), v, 0, "0 (the extractor is trained without photometric augmentation)");
    return v;
  };
  if (a?.jitterStrength !== undefined) check.only(f("jitter_strength"), a.jitterStrength, IMPLEMENTED.jitterStrength);
  if (a?.jitterHue !== undefined) check.only(f("jitter_hue"), a.jitterHue, IMPLEMENTED.jitterHue, "0 (no hue jitter)");
  if (a?.blurSigmaMin !== undefined) check.only(f("blur_sigma_min"), a.blurSigmaMin, IMPLEMENTED.blurSigmaMin);
  if (a?.blurSigmaMax !== undefined) check.only(f("blur_sigma_max"), a.blurSigmaMax, IMPLEMENTED.blurSigmaMax);
  return {
    jitterP: p("jitter_probability", a?.jitterProbability, defaults.jitterP),
    grayscaleP: p("grayscale_probability", a?.grayscaleProbability, defaults.grayscaleP),
    blurP: p("blur_probability", a?.blurProbability, defaults.blurP),
  };
}

export function executionFromWire(
  e: ExecutionConfig | undefined,
  prefix: string,
  service: ServiceExecutionDefaults,
): { seed: number; execution: JobExecution } {
  const f = (name: string) => fieldPath(prefix, name);
  const providers: Record<number, JobExecution["provider"]> = {
    [ExecutionProvider.EXECUTION_PROVIDER_AUTO]: "auto",
    [ExecutionProvider.EXECUTION_PROVIDER_CPU]: "cpu",
    [ExecutionProvider.EXECUTION_PROVIDER_CUDA]: "cuda",
  };
  const wireProvider = e?.provider ?? ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED;
  const provider =
    wireProvider === ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED ? service.provider : providers[wireProvider];
  if (!provider) throw new InvalidArgumentError(f("provider"), `unknown execution provider ${wireProvider}`);
  if (e?.deviceId !== undefined) check.integer(f("device_id"), e.deviceId, 0, 64);
  if (e?.intraOpThreads !== undefined) check.integer(f("intra_op_threads"), e.intraOpThreads, 0, 256);
  const seed = e?.seed ?? 0;
  check.integer(f("seed"), seed, 0, 2 ** 32 - 1);
  return {
    seed,
    execution: {
      provider,
      deviceId: e?.deviceId ?? 0,
      intraOpThreads: e?.intraOpThreads || service.intraOpThreads,
    },
  };
}

function vitToWire(c: MethodConfig): VitConfig {
  return {
    patchSize: c.crop.patch,
    embedDim: c.model.embedDim,
    depth: c.model.depth,
    numHeads: c.model.numHeads,
    mlpRatio: c.model.mlpRatio,
    pretrainedWeights: "",
    dropPathRate: IMPLEMENTED.dropPathRate,
  };
}

function optimizerToWire(t: TrainingConfig): OptimizerConfig {
  return {
    lr: t.lr,
    beta1: t.beta1,
    beta2: t.beta2,
    weightDecay: t.weightDecay,
    eps: IMPLEMENTED.adamEps,
    gradClipNorm: IMPLEMENTED.gradClipNorm,
  };
}

function scheduleToWire(t: TrainingConfig, checkpointEverySteps: number, logEverySteps: number): ScheduleConfig {
  return {
    epochs: t.epochs,
    batchSize: t.batch,
    warmupEpochs: t.warmupEpochs,
    cosineFloorFraction: t.minLrFactor,
    checkpointEverySteps,
    logEverySteps,
  };
}

function augmentationToWire(p: Photometric): AugmentationConfig {
  return {
    jitterProbability: p.jitterP,
    jitterStrength: IMPLEMENTED.jitterStrength,
    jitterHue: IMPLEMENTED.jitterHue,
    grayscaleProbability: p.grayscaleP,
    blurProbability: p.blurP,
    blurSigmaMin: IMPLEMENTED.blurSigmaMin,
    blurSigmaMax: IMPLEMENTED.blurSigmaMax,
  };
}

function executionToWire(e: JobExecution, seed: number): ExecutionConfig {
  const provider = {
    auto: ExecutionProvider.EXECUTION_PROVIDER_AUTO,
    cpu: ExecutionProvider.EXECUTION_PROVIDER_CPU,
    cuda: ExecutionProvider.EXECUTION_PROVIDER_CUDA,
  }[e.provider];
  return { provider, deviceId: e.deviceId, intraOpThreads: e.intraOpThreads, seed };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
