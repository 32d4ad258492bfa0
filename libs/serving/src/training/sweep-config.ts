import { type RetrievalSweepConfig, ScoreScale } from "@exits/contracts";
import { gridOf, type MethodConfig, type SweepGrid } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import {
  applyCropConfig,
  applySimilarityConfig,
  check,
  cropConfigToWire,
  fieldPath,
  present,
  resolveOnto,
  similarityConfigToWire,
} from "../config/index.js";
import { executionFromWire, type ServiceExecutionDefaults } from "./training-config.js";
import type { JobExecution } from "./training-defaults.js";

export const DEFAULT_SWEEP = {
  alphas: [1, 2, 4, 8, 16],
  tauFgs: [0, 0.25, 0.5, 1, 2, 4],
  tauBgs: [0, -0.25, -0.5, -1, -2, -4],
  seedShiftPatches: 1,
  minCoverage: 0.3,
};

/** A sweep, resolved: the library's grid (fixed thresholds only, τ on the N² scale) and the proto's choice rule. */
export interface SweepPlan {
  config: MethodConfig;
  execution: JobExecution;
  grid: SweepGrid;
  minCoverage: number;
  maxObjects: number;
  wire: RetrievalSweepConfig;
}

/**
 * RetrievalSweepConfig (path `prefix`) onto the extractor's configuration. Candidates are every
 * (α, τ_FG, τ_BG) with τ_BG < τ_FG at one δ; RAW-scale candidates are converted to the N² scale the
 * method compares on (and reported so).
 */
export function sweepPlanFromWire(
  wire: RetrievalSweepConfig | null | undefined,
  prefix: string,
  extractor: MethodConfig,
  service: ServiceExecutionDefaults,
): SweepPlan {
  const w = present(wire) ?? ({} as Partial<RetrievalSweepConfig>);
  const f = (name: string) => fieldPath(prefix, name);
  let c = applyCropConfig(extractor, w.crop, f("crop"));
  c = applySimilarityConfig(c, w.similarity, f("similarity"));
  const { grid: N } = gridOf(c);
  const scale = w.scoreScale ?? ScoreScale.SCORE_SCALE_UNSPECIFIED;
  if (
    ![ScoreScale.SCORE_SCALE_UNSPECIFIED, ScoreScale.SCORE_SCALE_N_SQUARED, ScoreScale.SCORE_SCALE_RAW].includes(scale)
  )
    throw new InvalidArgumentError(f("score_scale"), `unknown score scale ${scale}`);
  const factor = scale === ScoreScale.SCORE_SCALE_RAW ? N * N : 1;
  const alphas = w.alphas?.length ? [...w.alphas] : DEFAULT_SWEEP.alphas;
  const tauFgs = (w.tauFgs?.length ? w.tauFgs : DEFAULT_SWEEP.tauFgs).map((t) => t * factor);
  const tauBgs = (w.tauBgs?.length ? w.tauBgs : DEFAULT_SWEEP.tauBgs).map((t) => t * factor);
  for (const [i, a] of alphas.entries()) check.integer(f(`alphas[${i}]`), a, 1, 64);
  for (const [i, t] of tauFgs.entries()) check.finite(f(`tau_fgs[${i}]`), t);
  for (const [i, t] of tauBgs.entries()) check.finite(f(`tau_bgs[${i}]`), t);
  const delta = w.seedShiftPatches ?? DEFAULT_SWEEP.seedShiftPatches;
  check.range(f("seed_shift_patches"), delta, 0, N);
  if (!Number.isInteger(delta))
    throw new InvalidArgumentError(f("seed_shift_patches"), `only whole patches are supported, got ${delta}`);
  const minCoverage = w.minCoverage ?? DEFAULT_SWEEP.minCoverage;
  check.range(f("min_coverage"), minCoverage, 0, 1);
  const maxObjects = w.maxObjects ?? 0;
  check.integer(f("max_objects"), maxObjects, 0, 10_000_000);
  const fixed = tauFgs.flatMap((tauFg) => tauBgs.filter((tauBg) => tauBg < tauFg).map((tauBg) => ({ tauFg, tauBg })));
  if (fixed.length === 0) throw new InvalidArgumentError(f("tau_bgs"), "no candidate has tau_bg < tau_fg");
  const { seed, execution } = executionFromWire(present(w.execution), f("execution"), service);
  c = resolveOnto(
    c,
    { seed, retrieval: { delta } },
    { seed: f("execution.seed"), "retrieval.delta": f("seed_shift_patches") },
  );
  return {
    config: c,
    execution,
    grid: { deltas: [delta], alphas, fixed, fractions: [] },
    minCoverage,
    maxObjects,
    wire: {
      alphas,
      tauFgs,
      tauBgs,
      scoreScale: ScoreScale.SCORE_SCALE_N_SQUARED,
      seedShiftPatches: delta,
      minCoverage,
      maxObjects,
      crop: cropConfigToWire(c),
      similarity: similarityConfigToWire(c),
      execution: {
        provider: { auto: 1, cpu: 2, cuda: 3 }[execution.provider],
        deviceId: execution.deviceId,
        intraOpThreads: execution.intraOpThreads,
        seed,
      },
    },
  };
}
