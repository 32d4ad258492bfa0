import type { Logger } from "@exits/base";
import {
  type CropRefiner,
  cropMaskPredictor,
  gridOf,
  MaskPredictor,
  type MethodConfig,
  type ObjectMaskPredictor,
} from "@exits/exits";
import type { RuntimeConfig } from "@exits/runtime";
import { resolveCrfSettings } from "../config/crf-config.js";
import { CrfEngine } from "../crf/crf-engine.js";
import { inProcessCrfRefiner } from "../mask/crf-refiner.js";
import type { ModelLease } from "../models/model-registry.js";
import type { ExportMetrics } from "./export-metrics.js";
import type { ResolvedExport } from "./export-spec.js";

/** What the export's mask predictor is made from (the exporter's deps, or a shard process's). */
export interface ExportPredictorDeps {
  /** EXITS_INTRA_OP_THREADS: used where the job's execution.intra_op_threads is 0. */
  readonly intraOpThreads: number;
  readonly logger: Logger;
  /** MaskService adapter (EXITS_MASK_ADDRESS): masks over gRPC instead of in process (crfRefine: ask it to refine). */
  readonly remoteMasks?: (lease: ModelLease, c: MethodConfig, crfRefine: boolean) => ObjectMaskPredictor;
}

/** The generator as an ObjectMaskPredictor: over MaskService when configured, else in process (compiled once per version). */
export function exportMaskPredictor(
  deps: ExportPredictorDeps,
  lease: ModelLease,
  r: ResolvedExport,
  c: MethodConfig,
): ObjectMaskPredictor {
  if (deps.remoteMasks) return deps.remoteMasks(lease, c, r.config.crfRefine);
  const e = r.config.execution;
  const threads = e.intraOpThreads || deps.intraOpThreads;
  const runtime = { executionProvider: e.provider, deviceId: e.deviceId, intraOpNumThreads: threads };
  const refine = r.config.crfRefine ? crfRefinement(lease, c, runtime, deps) : undefined;
  const key = `export-mask-predictor:${c.export.batch}:${e.provider}:${e.deviceId}:${threads}`;
  let created: Promise<MaskPredictor> | undefined;
  const predictor = () =>
    (created ??= lease.cached(
      key,
      () =>
        MaskPredictor.create(lease.config, lease.parameters, c.export.batch, {
          runtime,
          logger: deps.logger,
        }),
      (p) => p.release(),
    ));
  return {
    batch: c.export.batch,
    async predictObjects(set, objects) {
      return cropMaskPredictor(await predictor(), c, refine).predictObjects(set, objects);
    },
  };
}

/**
 * crf_refine in process: MAL's CRF over each crop's R × R probabilities with the export's CRF
 * settings, through the CrfService's engine (one per version and runtime, kept on the lease).
 */
function crfRefinement(
  lease: ModelLease,
  c: MethodConfig,
  runtime: Partial<RuntimeConfig>,
  deps: ExportPredictorDeps,
): CropRefiner {
  const settings = resolveCrfSettings(c.crf, undefined, "spec.config.crf");
  const R = gridOf(c).maskSize;
  const key = `export-crf:${runtime.executionProvider}:${runtime.deviceId}:${runtime.intraOpNumThreads}`;
  const engine = () =>
    lease.cached(
      key,
      async () => new CrfEngine({ runtime, maxBatch: 16, maxObjects: Number.MAX_SAFE_INTEGER, logger: deps.logger }),
      (e) => e.close(),
    );
  return async (probabilities, crops) =>
    inProcessCrfRefiner(await engine()).refine(
      crops.map((crop, k) => ({ crop, probabilities: probabilities[k]! })),
      settings,
      R,
    );
}

/** Times each batch of masks into the histogram. */
export function timedPredictor(p: ObjectMaskPredictor, metrics: ExportMetrics): ObjectMaskPredictor {
  return {
    batch: p.batch,
    async predictObjects(set, objects) {
      const end = metrics.maskSeconds.startTimer();
      try {
        return await p.predictObjects(set, objects);
      } finally {
        end();
      }
    },
  };
}
