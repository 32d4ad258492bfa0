import type { Logger } from "@exits/base";
import { cropMaskPredictor, MaskPredictor, type MethodConfig, type ObjectMaskPredictor } from "@exits/exits";
import type { ModelLease } from "../models/model-registry.js";
import type { ExportMetrics } from "./export-metrics.js";
import type { ResolvedExport } from "./export-spec.js";

/** What the export's mask predictor is made from (the exporter's deps, or a shard process's). */
export interface ExportPredictorDeps {
  /** EXITS_INTRA_OP_THREADS: used where the job's execution.intra_op_threads is 0. */
  readonly intraOpThreads: number;
  readonly logger: Logger;
  /** MaskService adapter (EXITS_MASK_ADDRESS): masks over gRPC instead of in process. */
  readonly remoteMasks?: (lease: ModelLease, c: MethodConfig) => ObjectMaskPredictor;
}

/** The generator as an ObjectMaskPredictor: over MaskService when configured, else in process (compiled once per version). */
export function exportMaskPredictor(
  deps: ExportPredictorDeps,
  lease: ModelLease,
  r: ResolvedExport,
  c: MethodConfig,
): ObjectMaskPredictor {
  if (deps.remoteMasks) return deps.remoteMasks(lease, c);
  const e = r.config.execution;
  const threads = e.intraOpThreads || deps.intraOpThreads;
  const key = `export-mask-predictor:${c.export.batch}:${e.provider}:${e.deviceId}:${threads}`;
  let created: Promise<MaskPredictor> | undefined;
  const predictor = () =>
    (created ??= lease.cached(
      key,
      () =>
        MaskPredictor.create(lease.config, lease.parameters, c.export.batch, {
          runtime: { executionProvider: e.provider, deviceId: e.deviceId, intraOpNumThreads: threads },
          logger: deps.logger,
        }),
      (p) => p.release(),
    ));
  return {
    batch: c.export.batch,
    async predictObjects(set, objects) {
      return cropMaskPredictor(await predictor(), c).predictObjects(set, objects);
    },
  };
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
