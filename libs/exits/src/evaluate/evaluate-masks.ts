import {
  type BinaryMask,
  bboxFromExtremePoints,
  countRetrievedPoints,
  decodeRle,
  type InstanceScore,
  type MaskMetricsReport,
  type PointRetrievalReport,
  type RleMask,
  rleFromBbox,
  rleToBbox,
  scoreInstance,
  segmentationToRle,
  summariseMasks,
  summarisePointRetrieval,
} from "@exits/dataset";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import type { ObjectPoints } from "../retrieval/point-labels.js";

/**
 * The evaluation of one set of masks (method §6): MAL's class-averaged mIoU and the instance mean,
 * overall, by size and on separated objects (≥ 2 ground-truth parts) — the class average is given
 * for every subset too, since per-size instance means weigh frequent classes more.
 */
export interface MaskEvaluation {
  report: MaskMetricsReport;
  classAveraged: {
    small: number | null;
    medium: number | null;
    large: number | null;
    separated: number | null;
  };
  scores: InstanceScore[];
}

/** The ground truth of an object as RLE on its image; undefined when the file has none. */
export function groundTruthRle(set: ObjectSet, o: MethodObject): RleMask | undefined {
  if (o.groundTruth === undefined) return undefined;
  const image = set.image(o.imageId);
  return segmentationToRle(o.groundTruth, image.height, image.width);
}

/** Scores masks (by annotation id) against the ground truth; objects without ground truth are left out. */
export function evaluateMasks(
  set: ObjectSet,
  masks: ReadonlyMap<number, BinaryMask | RleMask>,
): MaskEvaluation | undefined {
  const scores: InstanceScore[] = [];
  for (const o of set.objects) {
    const gt = groundTruthRle(set, o);
    const mask = masks.get(o.id);
    if (!gt || !mask) continue;
    const [, , w, h] = rleToBbox(gt);
    scores.push(scoreInstance(mask, gt, { categoryId: o.categoryId, id: o.id, boxArea: w * h }));
  }
  if (scores.length === 0) return undefined;
  const names = new Map([...set.categories.values()].map((c) => [c.id, c.name]));
  const classMean = (subset: InstanceScore[]) => (subset.length ? summariseMasks(subset).classAveragedMIoU : null);
  const area = (s: InstanceScore) => s.boxArea;
  return {
    report: summariseMasks(scores, names),
    classAveraged: {
      small: classMean(scores.filter((s) => area(s) < 32 * 32)),
      medium: classMean(scores.filter((s) => area(s) >= 32 * 32 && area(s) <= 96 * 96)),
      large: classMean(scores.filter((s) => area(s) > 96 * 96)),
      separated: classMean(scores.filter((s) => s.parts >= 2)),
    },
    scores,
  };
}

/** The filled-box baseline: every pixel of the box spanned by the extreme points. */
export function boxMasks(set: ObjectSet): Map<number, RleMask> {
  const out = new Map<number, RleMask>();
  for (const o of set.objects) {
    const image = set.image(o.imageId);
    out.set(o.id, rleFromBbox(bboxFromExtremePoints(o.points), image.height, image.width));
  }
  return out;
}

/** Precision of retrieved points and coverage of box points against the ground truth (method §6). */
export function evaluatePoints(set: ObjectSet, points: readonly ObjectPoints[]): PointRetrievalReport | undefined {
  const byId = new Map(set.objects.map((o) => [o.id, o]));
  const counts = [];
  for (const p of points) {
    const o = byId.get(p.id);
    const gt = o && groundTruthRle(set, o);
    if (!gt) continue;
    counts.push(
      countRetrievedPoints(
        { foreground: p.foreground, background: p.background, boxPoints: p.candidates },
        decodeRle(gt),
      ),
    );
  }
  return counts.length ? summarisePointRetrieval(counts) : undefined;
}
