import type { BinaryMask } from "../mask/mask-types.js";
import type { Point } from "../points/extreme-points.js";

/** Retrieved pseudo labels of one object, in image pixel coordinates. */
export interface RetrievedPoints {
  /** Pseudo-foreground points P̂_FG. */
  foreground: Point[];
  /** Pseudo-background points P̂_BG. */
  background: Point[];
  /** |P_Box|: how many box points could have been labelled. */
  boxPoints: number;
}

/** Counts behind point-retrieval precision and coverage (sums make pooled figures exact). */
export interface PointRetrievalCounts {
  foreground: number;
  foregroundInside: number;
  background: number;
  backgroundOutside: number;
  boxPoints: number;
}

/**
 * Point-retrieval quality against the ground truth (method §6): precision of pseudo-FG = share of
 * its points inside the GT mask, of pseudo-BG = share outside, coverage = share of box points that
 * got a label. Pooled over objects (sums of counts); null where a denominator is 0.
 */
export interface PointRetrievalReport extends PointRetrievalCounts {
  objects: number;
  foregroundPrecision: number | null;
  backgroundPrecision: number | null;
  coverage: number | null;
}

/**
 * Points are in index space like every point of this lib (integer = pixel centre, see `CropMap`),
 * so a fractional point falls on the nearest pixel; points off the image count as outside the mask.
 */
function inside(mask: BinaryMask, [x, y]: Point): boolean {
  const c = Math.round(x);
  const r = Math.round(y);
  return c >= 0 && r >= 0 && c < mask.width && r < mask.height && mask.data[r * mask.width + c] !== 0;
}

/** Counts for one object against its full-image ground-truth mask. */
export function countRetrievedPoints(points: RetrievedPoints, groundTruth: BinaryMask): PointRetrievalCounts {
  return {
    foreground: points.foreground.length,
    foregroundInside: points.foreground.filter((p) => inside(groundTruth, p)).length,
    background: points.background.length,
    backgroundOutside: points.background.filter((p) => !inside(groundTruth, p)).length,
    boxPoints: points.boxPoints,
  };
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** Pools per-object counts into the report. */
export function summarisePointRetrieval(counts: PointRetrievalCounts[]): PointRetrievalReport {
  const total: PointRetrievalCounts = {
    foreground: 0,
    foregroundInside: 0,
    background: 0,
    backgroundOutside: 0,
    boxPoints: 0,
  };
  for (const c of counts) for (const k of Object.keys(total) as (keyof PointRetrievalCounts)[]) total[k] += c[k];
  return {
    objects: counts.length,
    ...total,
    foregroundPrecision: ratio(total.foregroundInside, total.foreground),
    backgroundPrecision: ratio(total.backgroundOutside, total.background),
    coverage: ratio(total.foreground + total.background, total.boxPoints),
  };
}
