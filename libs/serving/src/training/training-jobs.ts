import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@exits/base";
import { writeFileAtomic } from "@exits/base";
import {
  type CheckpointInfo,
  type EvaluationResult,
  type RetrievalConfig,
  ScoreScale,
  type TrainingArtifacts,
  type TrainingJobSpec,
  type TrainingMetrics,
} from "@exits/contracts";
import type { BinaryMask } from "@exits/dataset";
import {
  crfWeightAt,
  cropMaskPredictor,
  evaluateMasks,
  inProcessPointRetriever,
  loadModel,
  MaskPredictor,
  type MethodConfig,
  type ObjectSet,
  type PointRetriever,
  type SweepRow,
  saveModel,
  sweepRetrieval,
  trainExtractor,
  trainGenerator,
  updateManifest,
} from "@exits/exits";
import type { HostTensor, RuntimeConfig } from "@exits/runtime";
import type { JobContext, JobResult, JobSnapshot } from "../jobs/job-types.js";
import type { DataPaths } from "../paths/data-paths.js";
import { readDataset } from "./dataset-ref.js";
import { type TrainingMeters, TrainingProgressMapper } from "./training-progress.js";
import type { ResolvedTrainingJob } from "./training-spec.js";

/** Kind-specific state of a training job (TrainingJob.metrics / artifacts / last_evaluation). */
export interface TrainingExtras {
  metrics?: TrainingMetrics;
  artifacts?: TrainingArtifacts;
  lastEvaluation?: EvaluationResult;
}

/** The kind-specific events of a training job's Watch stream. */
export type TrainingEvent =
  | { progress: TrainingMetrics }
  | { checkpointSaved: CheckpointInfo }
  | { evaluation: EvaluationResult };

/** A training job as the framework stores it; the spec is ts-proto JSON of TrainingJobSpec. */
export type TrainingJobSnapshot = JobSnapshot<unknown, ResolvedTrainingJob, TrainingExtras>;
export type TrainingJobContext = JobContext<TrainingExtras, TrainingEvent>;

export interface TrainingJobDeps {
  paths: DataPaths;
  logger: Logger;
  meters?: TrainingMeters;
  /** Pseudo points for the generator; default: the extractor's weights in this process. */
  pointRetriever?: (
    extractorDir: string,
    parameters: ReadonlyMap<string, HostTensor>,
    runtime: Partial<RuntimeConfig>,
  ) => PointRetriever;
}

/** The job framework's run function for trainer jobs. */
export function trainingJobRunner(deps: TrainingJobDeps) {
  return async (job: TrainingJobSnapshot, ctx: TrainingJobContext): Promise<JobResult<TrainingExtras>> => {
    const r = job.resolvedSpec;
    if (r.kind === "extractor") return runExtractorJob(deps, r, ctx);
    if (r.kind === "retrieval_sweep") return runSweepJob(deps, r, ctx);
    return runGeneratorJob(deps, r, ctx);
  };
}

/** Removes checkpoints newer than the one ResumeJob named, so the loop resumes from it. */
export async function keepCheckpointsUpTo(trainDir: string, step: number): Promise<void> {
  const dir = join(trainDir, "checkpoints");
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^step-(\d+)$/.exec(n);
    if (m && Number(m[1]) > step) await rm(join(dir, n), { recursive: true, force: true });
  }
}

/** `<job dir>/train`: runTrainLoop's checkpoints/ and losses.jsonl. */
export function trainDirOf(jobDir: string): string {
  return join(jobDir, "train");
}

function runtimeOf(r: ResolvedTrainingJob): Partial<RuntimeConfig> {
  return {
    executionProvider: r.execution.provider,
    deviceId: r.execution.deviceId,
    intraOpNumThreads: r.execution.intraOpThreads,
  };
}

function progressMapper(
  deps: TrainingJobDeps,
  r: ResolvedTrainingJob,
  ctx: TrainingJobContext,
  training: { checkpointEvery: number },
  extra: { lambdaCrfAt?: (step: number) => number; coverage?: number; totalIsMil?: boolean } = {},
) {
  return new TrainingProgressMapper({
    trainDir: trainDirOf(ctx.jobDir),
    paths: deps.paths,
    logEvery: r.logEverySteps,
    checkpointEvery: training.checkpointEvery,
    ...(extra.lambdaCrfAt ? { lambdaCrfAt: extra.lambdaCrfAt } : {}),
    totalIsMil: extra.totalIsMil ?? false,
    ...(deps.meters ? { meters: deps.meters } : {}),
    onMetrics: (m, etaMs) => {
      const metrics = { ...m, retrievalCoverage: extra.coverage ?? 0 };
      ctx.report(
        {
          done: m.step,
          total: m.totalSteps,
          message: `epoch ${m.epoch}, step ${m.step}/${m.totalSteps}`,
          ...(etaMs !== undefined ? { etaMs } : {}),
        },
        { metrics },
      );
      ctx.emit({ progress: metrics }, { metrics });
    },
    onStatus: (done, total, etaMs) => ctx.report({ done, total, ...(etaMs !== undefined ? { etaMs } : {}) }),
    onCheckpoint: (c) =>
      ctx.emit({ checkpointSaved: c }, { artifacts: { model: "", manifest: "", sweepTable: "", lastCheckpoint: c } }),
  });
}

async function runExtractorJob(
  deps: TrainingJobDeps,
  r: ResolvedTrainingJob,
  ctx: TrainingJobContext,
): Promise<JobResult<TrainingExtras>> {
  const { paths } = deps;
  const set = await readDataset(paths, r.dataset!, "spec.extractor.dataset");
  const c = r.config;
  const progress = progressMapper(deps, r, ctx, c.extractor, { totalIsMil: true });
  ctx.log(
    "info",
    `extractor: ${set.objects.length} objects, ${c.extractor.epochs} epochs${ctx.resumed ? " (resuming from the job's checkpoint)" : ""}`,
  );
  const { parameters, run } = await trainExtractor(set, c, {
    dir: trainDirOf(ctx.jobDir),
    runtime: runtimeOf(r),
    logger: deps.logger,
    onProgress: (p) => progress.handle(p),
    signal: ctx.signal,
  });
  progress.flushCheckpoint();
  const out = paths.resolve("spec.output_dir", r.outputDir);
  await saveModel(out, parameters, {
    kind: "extractor",
    config: c,
    training: { ...summary(run), job: ctx.jobDir.split("/").pop(), resolvedSpec: r.wire },
    inputs: { annotations: r.dataset!.annotations, images: r.dataset!.imagesDir, objects: set.objects.length },
  });
  ctx.log("info", `extractor written to ${r.outputDir}`);
  return { extras: { artifacts: artifactsOf(paths, out, ctx, run.steps) }, message: `model written to ${r.outputDir}` };
}

async function runGeneratorJob(
  deps: TrainingJobDeps,
  r: ResolvedTrainingJob,
  ctx: TrainingJobContext,
): Promise<JobResult<TrainingExtras>> {
  const { paths } = deps;
  const c = r.config;
  const set = await readDataset(paths, r.dataset!, "spec.generator.dataset");
  const extractorDir = paths.resolve("spec.generator.extractor_model", r.extractorModel!);
  const extractor = await loadModel(extractorDir, "extractor");
  const runtime = runtimeOf(r);
  ctx.log("info", `generator: retrieving pseudo points for ${set.objects.length} objects`);
  ctx.report({ done: 0, total: 0, message: "retrieving pseudo points" });
  const retriever =
    deps.pointRetriever?.(extractorDir, extractor.parameters, runtime) ??
    inProcessPointRetriever(extractor.parameters, { runtime, logger: deps.logger });
  const points = await retriever.retrieve(set, c, { signal: ctx.signal });
  const coverage =
    points.reduce(
      (s, p) => s + (p.candidates > 0 ? (p.foreground.length + p.background.length) / p.candidates : 0),
      0,
    ) / Math.max(1, points.length);
  const progress = progressMapper(deps, r, ctx, c.generator, { lambdaCrfAt: (step) => crfWeightAt(c, step), coverage });
  // With a validation set: mIoU of the pasted pseudo masks at the end of every epoch, with the
  // weights a label export would use at that point (the EMA teacher).
  const validation = r.validation
    ? await readDataset(paths, r.validation, "spec.generator.validation", { groundTruth: true })
    : undefined;
  let lastEvaluation: EvaluationResult | undefined;
  const gen = await trainGenerator(set, points, c, {
    dir: trainDirOf(ctx.jobDir),
    encoder: extractor.parameters,
    runtime,
    logger: deps.logger,
    onProgress: (p) => progress.handle(p),
    signal: ctx.signal,
    ...(validation
      ? {
          onEpochEnd: async (epoch: number, labeller: Map<string, HostTensor>) => {
            const evaluation = await evaluateGenerator(validation, labeller, c, runtime, epoch);
            if (!evaluation) return;
            lastEvaluation = evaluation;
            ctx.emit({ evaluation }, { lastEvaluation });
          },
        }
      : {}),
  });
  progress.flushCheckpoint();
  // MAL labels with the EMA teacher (as runPipeline): steadier than any one student.
  const labeller = gen.teacher ?? gen.parameters;
  const out = paths.resolve("spec.output_dir", r.outputDir);
  await saveModel(out, labeller, {
    kind: "generator",
    config: c,
    training: { ...summary(gen.run), weights: gen.teacher ? "ema-teacher" : "student", resolvedSpec: r.wire },
    inputs: {
      annotations: r.dataset!.annotations,
      images: r.dataset!.imagesDir,
      extractor: r.extractorModel,
      objects: set.objects.length,
    },
  });
  ctx.log("info", `generator written to ${r.outputDir}`);
  return {
    extras: { artifacts: artifactsOf(paths, out, ctx, gen.run.steps), ...(lastEvaluation ? { lastEvaluation } : {}) },
    message: `model written to ${r.outputDir}`,
  };
}

async function evaluateGenerator(
  set: ObjectSet,
  parameters: ReadonlyMap<string, HostTensor>,
  c: MethodConfig,
  runtime: Partial<RuntimeConfig>,
  epoch: number,
): Promise<EvaluationResult | undefined> {
  const predictor = await MaskPredictor.create(c, parameters, Math.min(c.export.batch, set.objects.length), {
    runtime,
  });
  const masks = new Map<number, BinaryMask>();
  try {
    const objectMasks = cropMaskPredictor(predictor, c);
    for (let start = 0; start < set.objects.length; start += objectMasks.batch) {
      const objects = set.objects.slice(start, start + objectMasks.batch);
      const out = await objectMasks.predictObjects(set, objects);
      for (const [k, o] of objects.entries()) masks.set(o.id, out[k]!.mask);
    }
  } finally {
    await predictor.release();
  }
  const e = evaluateMasks(set, masks);
  if (!e) return undefined;
  return {
    epoch,
    miou: e.report.classAveragedMIoU ?? 0,
    instanceMiou: e.report.instanceMIoU ?? 0,
    separatedMiou: e.report.separated.mIoU ?? 0,
    alpha: 0,
    tauFg: 0,
    tauBg: 0,
    precisionFg: 0,
    precisionBg: 0,
    coverage: 0,
    chosen: false,
  };
}

async function runSweepJob(
  deps: TrainingJobDeps,
  r: ResolvedTrainingJob,
  ctx: TrainingJobContext,
): Promise<JobResult<TrainingExtras>> {
  const { paths } = deps;
  const plan = r.sweep!;
  let set = await readDataset(paths, r.validation!, "spec.retrieval_sweep.validation", { groundTruth: true });
  if (plan.maxObjects > 0) set = set.subset(set.objects.slice(0, plan.maxObjects));
  const extractorDir = paths.resolve("spec.retrieval_sweep.extractor_model", r.extractorModel!);
  const extractor = await loadModel(extractorDir, "extractor");
  const candidates = plan.grid.alphas.length * plan.grid.fixed.length;
  ctx.report({
    done: 0,
    total: candidates,
    message: `sweeping ${candidates} candidates on ${set.objects.length} objects`,
  });
  const sweep = await sweepRetrieval(set, extractor.parameters, r.config, {
    grid: plan.grid,
    runtime: runtimeOf(r),
    logger: deps.logger,
    signal: ctx.signal,
  });
  // The proto's fixed objective: among candidates reaching min_coverage, the highest mean of the
  // two precisions (all candidates when none reaches it, said so in the log and the table).
  const eligible = sweep.rows.filter((row) => (row.coverage ?? 0) >= plan.minCoverage);
  const pool = eligible.length > 0 ? eligible : sweep.rows;
  if (eligible.length === 0)
    ctx.log(
      "warn",
      `no candidate labels ${plan.minCoverage} of the box points; choosing among all ${sweep.rows.length}`,
    );
  const score = (row: SweepRow) => ((row.foregroundPrecision ?? 0) + (row.backgroundPrecision ?? 0)) / 2;
  const best = pool.reduce((a, b) => (score(b) > score(a) ? b : a));
  const rule = `${eligible.length ? `among candidates with coverage ≥ ${plan.minCoverage}` : `no candidate reached coverage ${plan.minCoverage}; among all`}, the highest mean of P_FG and P_BG precision`;
  let bestEvaluation: EvaluationResult | undefined;
  sweep.rows.forEach((row, i) => {
    const evaluation: EvaluationResult = {
      epoch: i,
      miou: 0,
      instanceMiou: 0,
      separatedMiou: 0,
      alpha: row.setting.alpha,
      tauFg: row.setting.tauFg,
      tauBg: row.setting.tauBg,
      precisionFg: row.foregroundPrecision ?? 0,
      precisionBg: row.backgroundPrecision ?? 0,
      coverage: row.coverage ?? 0,
      chosen: row === best,
    };
    if (row === best) bestEvaluation = evaluation;
    ctx.emit({ evaluation });
    ctx.report({ done: i + 1, total: sweep.rows.length });
  });
  const out = paths.resolve("spec.output_dir", r.outputDir);
  const tablePath = join(out, "sweep.json");
  const table = {
    extractor: r.extractorModel,
    dataset: r.validation!.annotations,
    objects: sweep.objects,
    rule,
    chosen: best,
    rows: sweep.rows,
    resolvedSpec: r.wire,
  };
  await writeFileAtomic(tablePath, `${JSON.stringify(table, null, 2)}\n`);
  await updateManifest(extractorDir, (m) => ({
    ...m,
    config: { ...m.config, retrieval: { ...m.config.retrieval, ...best.setting } },
    sweep: { ...table, rows: undefined, table: paths.toClient(tablePath), at: new Date().toISOString() },
  }));
  const chosenRetrieval: RetrievalConfig = {
    seedShiftPatches: best.setting.delta,
    alpha: best.setting.alpha,
    tauFg: best.setting.tauFg,
    tauBg: best.setting.tauBg,
    scoreScale: ScoreScale.SCORE_SCALE_N_SQUARED,
  };
  ctx.log(
    "info",
    `chosen α=${best.setting.alpha} τ_FG=${best.setting.tauFg} τ_BG=${best.setting.tauBg}; recorded in ${r.extractorModel}/manifest.json`,
  );
  return {
    extras: {
      artifacts: {
        model: r.extractorModel!,
        manifest: `${r.extractorModel}/manifest.json`,
        chosenRetrieval,
        sweepTable: paths.toClient(tablePath),
      },
      ...(bestEvaluation ? { lastEvaluation: bestEvaluation } : {}),
    },
    message: `α=${best.setting.alpha} τ_FG=${best.setting.tauFg} τ_BG=${best.setting.tauBg} recorded in ${r.extractorModel}`,
  };
}

function artifactsOf(paths: DataPaths, out: string, ctx: TrainingJobContext, steps: number): TrainingArtifacts {
  const dir = join(trainDirOf(ctx.jobDir), "checkpoints", `step-${String(steps).padStart(9, "0")}`);
  return {
    model: paths.toClient(out),
    manifest: paths.toClient(join(out, "manifest.json")),
    sweepTable: "",
    lastCheckpoint: { path: paths.toClient(dir), step: steps, epoch: 0, createdAtMs: Date.now() },
  };
}

function summary(run: {
  steps: number;
  totalSteps: number;
  stoppedEarly: boolean;
  seconds: number;
  resumedFrom?: number | undefined;
}) {
  return {
    steps: run.steps,
    totalSteps: run.totalSteps,
    stoppedEarly: run.stoppedEarly,
    seconds: run.seconds,
    resumedFrom: run.resumedFrom ?? null,
  };
}

/** Converts a spec to the JSON form jobs persist (kept here so callers need not know ts-proto). */
export type SpecToJson = (s: TrainingJobSpec) => unknown;
