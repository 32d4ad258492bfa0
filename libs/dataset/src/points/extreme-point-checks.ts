import type { Bbox } from "../mask/mask-types.js";
import { EXTREME_POINT_NAMES, type ExtremePoints } from "./extreme-points.js";

/** What `extremePointProblems` checks against, beyond the points' own shape and order. */
export interface ExtremePointContext {
  /** Image size: every point must satisfy 0 ≤ x ≤ width and 0 ≤ y ≤ height. */
  image?: { width: number; height: number };
  /** The annotation's box; each point must lie on the matching side within `tolerance`. */
  bbox?: Bbox;
  /**
   * Allowed distance in pixels between a point and its side of `bbox` (right side `x + w`, bottom
   * `y + h`); default `1 + 0.02 × side length`. The 1 accepts both readings of a COCO bbox: a
   * polygon's continuous extent, where clicked points lie on `x + w`, and this lib's pixel-index
   * points, whose bbox (`bboxFromExtremePoints`) puts the right point at `x + w − 1`; the 2 % is
   * ExtremeNet's band.
   */
  tolerance?: number;
}

/**
 * Problems with a value meant to be extreme points, as human-readable sentences (empty when
 * valid): not four `[x, y]` pairs of finite numbers, a point outside the image, an order that
 * contradicts the box the points span (e.g. "top" is not the smallest y), or points that do not
 * match the annotation's own bbox.
 */
export function extremePointProblems(value: unknown, context: ExtremePointContext = {}): string[] {
  if (!Array.isArray(value)) return [`extreme_points is not an array (${typeof value})`];
  if (value.length !== 4) return [`expected 4 extreme points (top, left, bottom, right), got ${value.length}`];
  const bad = value.findIndex(
    (p) => !Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === "number" && Number.isFinite(c)),
  );
  if (bad >= 0)
    return [`${EXTREME_POINT_NAMES[bad]} point is not [x, y] with finite numbers: ${JSON.stringify(value[bad])}`];
  const points = value as ExtremePoints;
  const problems: string[] = [];
  const show = (i: number) => `${EXTREME_POINT_NAMES[i]} (${points[i]![0]}, ${points[i]![1]})`;
  if (context.image) {
    const { width, height } = context.image;
    points.forEach(([x, y], i) => {
      if (x < 0 || y < 0 || x > width || y > height)
        problems.push(`${show(i)} lies outside the ${width}x${height} image`);
    });
  }
  // axis 1 = y, axis 0 = x; sign −1: must be the minimum, +1: the maximum.
  const rules: [index: number, axis: 0 | 1, sign: -1 | 1, what: string][] = [
    [0, 1, -1, "smallest y"],
    [1, 0, -1, "smallest x"],
    [2, 1, 1, "largest y"],
    [3, 0, 1, "largest x"],
  ];
  for (const [i, axis, sign, what] of rules) {
    const other = points.findIndex((p, j) => j !== i && sign * (p[axis] - points[i]![axis]) > 0);
    if (other >= 0) problems.push(`order contradicts the box: ${show(i)} does not have the ${what} (${show(other)})`);
  }
  if (context.bbox && problems.length === 0) {
    const [bx, by, bw, bh] = context.bbox;
    const tx = context.tolerance ?? 1 + 0.02 * bw;
    const ty = context.tolerance ?? 1 + 0.02 * bh;
    const sides: [number, 0 | 1, number, number][] = [
      [0, 1, by, ty],
      [1, 0, bx, tx],
      [2, 1, by + bh, ty],
      [3, 0, bx + bw, tx],
    ];
    for (const [i, axis, edge, tol] of sides) {
      if (Math.abs(points[i]![axis] - edge) > tol) {
        problems.push(
          `${show(i)} is ${Math.abs(points[i]![axis] - edge).toFixed(2)} px from its side of bbox [${context.bbox.join(", ")}]`,
        );
      }
    }
  }
  return problems;
}
