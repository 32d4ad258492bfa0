import { countComponents } from "../mask/connected-components.js";
import type { BinaryMask, RleMask } from "../mask/mask-types.js";
import { decodeRle, encodeMask, rleIou, rleToBbox } from "../mask/rle-ops.js";

/** One scored object: what `summariseMasks` aggregates. Build it with `scoreInstance`. */
export interface InstanceScore {
  /** Annotation id, for tracing a number back to an object. */
  id?: number;
  categoryId: number;
  /** IoU of the full-image predicted mask with the ground-truth mask. */
  iou: number;
  /** Ground-truth box area w × h in pixels: the size bin key. */
  boxArea: number;
  /** Ground-truth connected parts (8-connectivity); "separated" means ≥ 2. */
  parts: number;
}

/**
 * Scores one predicted full-image mask against its ground truth: IoU as pycocotools computes it
 * (non-crowd; an empty ground truth gives 0), the ground-truth box area (its tight pixel box,
 * unless `boxArea` is given, e.g. from the annotation's bbox) and the number of connected parts
 * of the ground truth under 8-connectivity.
 */
export function scoreInstance(
  predicted: BinaryMask | RleMask,
  groundTruth: BinaryMask | RleMask,
  meta: { categoryId: number; id?: number; boxArea?: number },
): InstanceScore {
  const dt = "data" in predicted ? encodeMask(predicted) : predicted;
  const gtRle = "data" in groundTruth ? encodeMask(groundTruth) : groundTruth;
  const gtMask = "data" in groundTruth ? groundTruth : decodeRle(groundTruth);
  if (dt.size[0] !== gtRle.size[0] || dt.size[1] !== gtRle.size[1]) {
    throw new Error(`mask sizes differ: predicted [${dt.size}] vs ground truth [${gtRle.size}]`);
  }
  const [, , w, h] = rleToBbox(gtRle);
  return {
    ...(meta.id === undefined ? {} : { id: meta.id }),
    categoryId: meta.categoryId,
    iou: rleIou(dt, gtRle),
    boxArea: meta.boxArea ?? w * h,
    parts: countComponents(gtMask),
  };
}

/** Mean IoU of a group of instances; `mIoU` is null for an empty group. */
export interface GroupScore {
  count: number;
  mIoU: number | null;
}

/** Size bins by ground-truth box area: small < 32², medium 32² ≤ a ≤ 96², large > 96². */
export const SIZE_BINS = { small: [0, 32 * 32], medium: [32 * 32, 96 * 96], large: [96 * 96, Infinity] } as const;

/**
 * The evaluation report of pseudo masks (method §6). `classAveragedMIoU` is MAL's protocol: IoU
 * averaged within each category, then over categories. Fields and category order are fixed and
 * means are summed in sorted order, so the same scores in any order give the same JSON.
 */
export interface MaskMetricsReport {
  /** MAL's mIoU: mean over categories of the per-category mean IoU. */
  classAveragedMIoU: number | null;
  /** Plain mean IoU over all instances. */
  instanceMIoU: number | null;
  count: number;
  /** Per category, ascending id. */
  perCategory: ({ categoryId: number; name?: string } & GroupScore)[];
  /** By ground-truth box area: small < 32², medium 32² ≤ a ≤ 96², large > 96². */
  bySize: { small: GroupScore; medium: GroupScore; large: GroupScore };
  /** Objects whose ground truth has ≥ 2 connected parts (8-connectivity), and the rest. */
  separated: GroupScore;
  connected: GroupScore;
}

/** Mean summed in ascending order, so the result does not depend on the order of the input. */
function mean(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return sum / sorted.length;
}

function group(scores: InstanceScore[]): GroupScore {
  return { count: scores.length, mIoU: mean(scores.map((s) => s.iou)) };
}

function sizeBin(area: number): keyof typeof SIZE_BINS {
  // method §6: small < 32², medium 32²–96² (both ends included), large > 96².
  return area < SIZE_BINS.small[1] ? "small" : area <= SIZE_BINS.medium[1] ? "medium" : "large";
}

/** Aggregates instance scores into the report; `categoryNames` labels the per-category rows. */
export function summariseMasks(scores: InstanceScore[], categoryNames?: Map<number, string>): MaskMetricsReport {
  const byCategory = new Map<number, InstanceScore[]>();
  for (const s of scores) {
    const list = byCategory.get(s.categoryId);
    if (list) list.push(s);
    else byCategory.set(s.categoryId, [s]);
  }
  const perCategory = [...byCategory.keys()]
    .sort((a, b) => a - b)
    .map((categoryId) => {
      const name = categoryNames?.get(categoryId);
      return { categoryId, ...(name === undefined ? {} : { name }), ...group(byCategory.get(categoryId)!) };
    });
  return {
    classAveragedMIoU: mean(perCategory.map((c) => c.mIoU!)),
    instanceMIoU: group(scores).mIoU,
    count: scores.length,
    perCategory,
    bySize: {
      small: group(scores.filter((s) => sizeBin(s.boxArea) === "small")),
      medium: group(scores.filter((s) => sizeBin(s.boxArea) === "medium")),
      large: group(scores.filter((s) => sizeBin(s.boxArea) === "large")),
    },
    separated: group(scores.filter((s) => s.parts >= 2)),
    connected: group(scores.filter((s) => s.parts < 2)),
  };
}
