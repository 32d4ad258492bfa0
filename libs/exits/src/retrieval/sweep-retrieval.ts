import { type BinaryMask, countRetrievedPoints, decodeRle, summarisePointRetrieval } from "@exits/dataset";
import type { HostTensor } from "@exits/runtime";
import type { MethodConfig, RetrievalConfig } from "../config/method-config.js";
import type { ObjectSet } from "../data/object-set.js";
import { groundTruthRle } from "../evaluate/evaluate-masks.js";
import { pointsFromScores, retrievalScores, type ScoreOptions } from "./retrieve-points.js";

/** One evaluated retrieval setting. */
export interface SweepRow {
  setting: Pick<RetrievalConfig, "delta" | "alpha" | "mode" | "tauFg" | "tauBg" | "fgFraction" | "bgFraction">;
  foregroundPrecision: number | null;
  backgroundPrecision: number | null;
  coverage: number | null;
  /** Share of objects that got at least one retrieved point. */
  objectsWithPoints: number;
}

/** The grid a sweep walks; defaults cover method §7's range. */
export interface SweepGrid {
  deltas: number[];
  alphas: number[];
  fixed: { tauFg: number; tauBg: number }[];
  fractions: number[];
}

export const DEFAULT_SWEEP_GRID: SweepGrid = {
  deltas: [0, 1, 2],
  alphas: [1, 2, 4, 8],
  fixed: [0.1, 0.25, 0.5, 1].flatMap((tauFg) => [-0.05, -0.1, -0.25, -0.5].map((tauBg) => ({ tauFg, tauBg }))),
  fractions: [0.1, 0.2, 0.25, 0.33, 0.5],
};

export interface SweepResult {
  grid: SweepGrid;
  objects: number;
  /** Both precisions must reach this for a setting to be chosen (default 0.8). */
  minPrecision: number;
  rows: SweepRow[];
  best: SweepRow;
  /** How `best` was chosen, in words (recorded in the extractor's manifest). */
  rule: string;
}

/**
 * Tunes δ, α and the thresholds on labelled objects (method §3.3 leaves them open): every
 * setting of the grid is scored by the pooled precision of pseudo foreground and background
 * against the ground truth and by coverage (labelled / candidate box patches). Chosen: among the
 * settings whose two precisions both reach `minPrecision` (all of them when none does), the one
 * with the most net correct labels, coverage × (P_FG + P_BG − 1).
 */
export async function sweepRetrieval(
  set: ObjectSet,
  extractor: ReadonlyMap<string, HostTensor>,
  c: MethodConfig,
  options: ScoreOptions & { grid?: SweepGrid; minPrecision?: number } = {},
): Promise<SweepResult> {
  const grid = options.grid ?? DEFAULT_SWEEP_GRID;
  const minPrecision = options.minPrecision ?? 0.8;
  const labelled = set.subset(set.objects.filter((o) => o.groundTruth !== undefined));
  if (labelled.objects.length === 0)
    throw new Error(`${set.annotationsFile}: the sweep needs objects with a ground-truth segmentation`);
  const scores = await retrievalScores(labelled, extractor, c, {
    ...options,
    deltas: grid.deltas,
    alphas: grid.alphas,
  });
  const truth = new Map<number, BinaryMask>();
  for (const o of labelled.objects) truth.set(o.id, decodeRle(groundTruthRle(labelled, o)!));
  const settings: SweepRow["setting"][] = [];
  for (const delta of grid.deltas)
    for (const alpha of grid.alphas) {
      for (const { tauFg, tauBg } of grid.fixed)
        settings.push({ delta, alpha, mode: "fixed", tauFg, tauBg, fgFraction: 0, bgFraction: 0 });
      for (const f of grid.fractions)
        settings.push({ delta, alpha, mode: "quantile", tauFg: 0, tauBg: 0, fgFraction: f, bgFraction: f });
    }
  const rows: SweepRow[] = settings.map((setting) => {
    let withPoints = 0;
    const counts = scores.map((s) => {
      const p = pointsFromScores(s, setting);
      if (p.foreground.length + p.background.length > 0) withPoints++;
      return countRetrievedPoints(
        { foreground: p.foreground, background: p.background, boxPoints: p.candidates },
        truth.get(s.object.id)!,
      );
    });
    const r = summarisePointRetrieval(counts);
    return {
      setting,
      foregroundPrecision: r.foregroundPrecision,
      backgroundPrecision: r.backgroundPrecision,
      coverage: r.coverage,
      objectsWithPoints: withPoints / scores.length,
    };
  });
  // Net correct labels per box patch: coverage × (P_FG + P_BG − 1) — 0 for labels no better than
  // chance, and it punishes a tiny coverage (method §7: fixed τ that are precise but label 8 % of
  // the box leave most objects on the MIL fallback). Settings below `minPrecision` on either side
  // are considered only when none reaches it.
  const gain = (r: SweepRow) => (r.coverage ?? 0) * ((r.foregroundPrecision ?? 0) + (r.backgroundPrecision ?? 0) - 1);
  const ok = rows.filter(
    (r) => (r.foregroundPrecision ?? 0) >= minPrecision && (r.backgroundPrecision ?? 0) >= minPrecision,
  );
  const pool = ok.length ? ok : rows;
  const best = pool.reduce((a, b) => (gain(b) > gain(a) ? b : a));
  const rule = `${ok.length ? `among settings with FG and BG precision ≥ ${minPrecision}` : `no setting reached precision ${minPrecision} on both sides; among all`}, the highest coverage × (P_FG + P_BG − 1)`;
  return { grid, objects: scores.length, minPrecision, rows, best, rule };
}
