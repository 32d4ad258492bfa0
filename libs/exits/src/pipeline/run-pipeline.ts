import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { type Logger, silentLogger, writeFileAtomic } from "@exits/base";
import type { BinaryMask, MaskMetricsReport, PointRetrievalReport } from "@exits/dataset";
import type { HostTensor, RuntimeConfig } from "@exits/runtime";
import { saveModel } from "../artifacts/model-artifact.js";
import type { MethodConfig } from "../config/method-config.js";
import { type ObjectSet } from "../data/object-set.js";
import { boxMasks, evaluateMasks, evaluatePoints, type MaskEvaluation } from "../evaluate/evaluate-masks.js";
import { exportDataset } from "../export/export-dataset.js";
import { MaskPredictor } from "../export/mask-predictor.js";
import { trainExtractor } from "../extractor/train-extractor.js";
import { trainGenerator } from "../generator/train-generator.js";
import { inProcessPointRetriever, type PointRetriever } from "../ports/point-retriever.js";
import type { ObjectPoints } from "../retrieval/point-labels.js";
import type { ProgressListener } from "../training/progress.js";
import type { LossRecord } from "../training/train-loop.js";

export interface PipelineOptions {
  set: ObjectSet;
  config: MethodConfig;
  /** Everything goes below: models/, jobs/ (checkpoints, resumable), retrieval/, export/, evaluation.json. */
  outDir: string;
  runtime?: Partial<RuntimeConfig>;
  logger?: Logger;
  onProgress?: ProgressListener;
  /** Called when a stage starts, for headings. */
  onStage?: (stage: string, detail: string) => void;
  /** Wall-clock budget of the whole pipeline in seconds, split over the two training stages. */
  budgetSeconds?: number;
  signal?: AbortSignal;
  /** Where pseudo points come from once the extractor is trained; default: in this process. */
  retriever?: (extractorDir: string, parameters: ReadonlyMap<string, HostTensor>) => PointRetriever;
}

/** What a pipeline run produced and measured; `report.ts` turns it into the HTML report. */
export interface PipelineResult {
  config: MethodConfig;
  objects: number;
  paths: {
    extractor: string;
    generator: string;
    retrieval: string;
    export: string;
    exportManifest: string;
    evaluation?: string;
  };
  extractor: { losses: LossRecord[]; seconds: number; steps: number; stoppedEarly: boolean; cropsPerSecond: number };
  generator: { losses: LossRecord[]; seconds: number; steps: number; stoppedEarly: boolean; cropsPerSecond: number };
  retrieval: { seconds: number; objectsWithPoints: number; report?: PointRetrievalReport };
  export: { seconds: number; masksPerSecond: number };
  evaluation?: { generator: MaskEvaluation; box: MaskEvaluation };
  /** Masks and points by annotation id (pictures); not written to disk. */
  masks: Map<number, BinaryMask>;
  points: ObjectPoints[];
}

/**
 * The whole method on one dataset in this process (the embedded default): train the similarity
 * extractor (MIL), retrieve pseudo points with it, train the generator (points + CRF, EMA teacher),
 * export a COCO file of pseudo masks, and evaluate against the ground truth where the file has it.
 * Each training stage resumes from its checkpoint when `outDir` holds one.
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const c = o.config;
  const logger = o.logger ?? silentLogger;
  const n = o.set.objects.length;
  const dirs = {
    models: join(o.outDir, "models"),
    jobs: join(o.outDir, "jobs"),
    retrieval: join(o.outDir, "retrieval"),
    export: join(o.outDir, "export"),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  const t0 = performance.now();
  const budgetLeft = () =>
    o.budgetSeconds === undefined ? undefined : o.budgetSeconds - (performance.now() - t0) / 1000;
  const common = { runtime: o.runtime, logger, onProgress: o.onProgress, signal: o.signal };
  const inputs = { annotations: o.set.annotationsFile, images: o.set.imageDir, objects: n };

  o.onStage?.("extractor", `similarity extractor: ${c.extractor.epochs} epochs of MIL on ${n} objects`);
  const ext = await trainExtractor(o.set, c, {
    ...common,
    dir: join(dirs.jobs, "extractor"),
    budgetSeconds: budgetLeft() === undefined ? undefined : budgetLeft()! * 0.4,
  });
  const extractorDir = join(dirs.models, "extractor");
  await saveModel(extractorDir, ext.parameters, {
    kind: "extractor",
    config: c,
    training: summary(ext.run),
    inputs,
  });

  o.onStage?.(
    "retrieval",
    `point retrieval: α=${c.retrieval.alpha}, δ=${c.retrieval.delta}, ${c.retrieval.mode} thresholds`,
  );
  const tr = performance.now();
  const retriever =
    o.retriever?.(extractorDir, ext.parameters) ??
    inProcessPointRetriever(ext.parameters, { runtime: o.runtime, logger });
  const points = await retriever.retrieve(o.set, c, { onProgress: o.onProgress, signal: o.signal });
  const retrievalSeconds = (performance.now() - tr) / 1000;
  const retrievalPath = join(dirs.retrieval, "points.json");
  await writeFileAtomic(retrievalPath, `${JSON.stringify({ config: c.retrieval, points })}\n`);

  o.onStage?.(
    "generator",
    `generator: ${c.generator.epochs} epochs, ${c.generator.supervision === "mil" ? "MIL only" : `points${c.generator.useCrf ? " + CRF" : ""}`}`,
  );
  const gen = await trainGenerator(o.set, points, c, {
    ...common,
    dir: join(dirs.jobs, "generator"),
    encoder: ext.parameters,
    budgetSeconds: budgetLeft() === undefined ? undefined : Math.max(1, budgetLeft()! * 0.85),
  });
  // MAL labels with the EMA teacher: an average of the last steps' students, steadier than any one.
  const labeller = gen.teacher ?? gen.parameters;
  const generatorDir = join(dirs.models, "generator");
  await saveModel(generatorDir, labeller, {
    kind: "generator",
    config: c,
    training: { ...summary(gen.run), weights: gen.teacher ? "ema-teacher" : "student" },
    inputs: { ...inputs, extractor: extractorDir },
  });

  o.onStage?.("export", `export: ${n} pseudo masks`);
  const te = performance.now();
  const masks = new Map<number, BinaryMask>();
  const output = join(dirs.export, `${basename(o.set.annotationsFile).replace(/\.json$/, "")}.exits.json`);
  const predictor = await MaskPredictor.create(c, labeller, Math.min(c.export.batch, n), {
    runtime: o.runtime,
    logger,
  });
  let exported: Awaited<ReturnType<typeof exportDataset>>;
  try {
    exported = await exportDataset(o.set, predictor, c, {
      output,
      manifest: { models: { extractor: extractorDir, generator: generatorDir }, inputs },
      onProgress: o.onProgress,
      onMask: (m) => masks.set(m.object.id, m.mask),
      signal: o.signal,
    });
  } finally {
    await predictor.release();
  }
  const exportSeconds = (performance.now() - te) / 1000;

  const result: PipelineResult = {
    config: c,
    objects: n,
    paths: {
      extractor: extractorDir,
      generator: generatorDir,
      retrieval: retrievalPath,
      export: exported.output,
      exportManifest: exported.manifestPath,
    },
    extractor: stageFigures(ext.run, c.extractor.batch, n),
    generator: stageFigures(gen.run, c.generator.batch, n),
    retrieval: {
      seconds: retrievalSeconds,
      objectsWithPoints: points.filter((p) => p.foreground.length + p.background.length > 0).length,
      report: evaluatePoints(o.set, points),
    },
    export: { seconds: exportSeconds, masksPerSecond: n / exportSeconds },
    masks,
    points,
  };
  const generatorEval = evaluateMasks(o.set, masks);
  const boxEval = evaluateMasks(o.set, boxMasks(o.set));
  if (generatorEval && boxEval) {
    result.evaluation = { generator: generatorEval, box: boxEval };
    result.paths.evaluation = join(o.outDir, "evaluation.json");
    await writeFileAtomic(
      result.paths.evaluation,
      `${JSON.stringify(
        {
          objects: n,
          generator: withoutScores(generatorEval),
          box: withoutScores(boxEval),
          retrieval: result.retrieval.report,
          extremePoints: o.set.pointOrigin,
        },
        null,
        2,
      )}\n`,
    );
  }
  return result;
}

function summary(run: {
  steps: number;
  totalSteps: number;
  stoppedEarly: boolean;
  seconds: number;
  resumedFrom?: number;
}) {
  return {
    steps: run.steps,
    totalSteps: run.totalSteps,
    stoppedEarly: run.stoppedEarly,
    seconds: run.seconds,
    resumedFrom: run.resumedFrom ?? null,
  };
}

function stageFigures(
  run: { losses: LossRecord[]; seconds: number; steps: number; ranSteps: number; stoppedEarly: boolean },
  batch: number,
  n: number,
) {
  return {
    losses: run.losses,
    seconds: run.seconds,
    steps: run.steps,
    stoppedEarly: run.stoppedEarly,
    cropsPerSecond: (run.ranSteps * Math.min(batch, n)) / run.seconds,
  };
}

function withoutScores(e: MaskEvaluation): Omit<MaskEvaluation, "scores"> & { report: MaskMetricsReport } {
  return { report: e.report, classAveraged: e.classAveraged };
}
