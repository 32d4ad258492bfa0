import type { Bbox } from "../mask/mask-types.js";

/**
 * A point `[x, y]` in pixel INDEX space (x = column, y = row): an integer is a pixel centre, so a
 * fractional point lies on pixel (round x, round y). Boxes are continuous instead (`Box` in crop/).
 */
export type Point = [x: number, y: number];

/**
 * The four extreme points of one object, in COCO/ExtremeNet order: top, left, bottom, right.
 * Stored in COCO annotations as `extreme_points: [[x, y], [x, y], [x, y], [x, y]]`.
 *
 * Invariants of a valid set (see `extremePointProblems`): top has the smallest y, left the
 * smallest x, bottom the largest y, right the largest x. Points simulated from a mask
 * (`extremePointsFromMask`) are integer pixel indices of foreground pixels.
 */
export type ExtremePoints = [top: Point, left: Point, bottom: Point, right: Point];

/** Names of the four points in order, for messages. */
export const EXTREME_POINT_NAMES = ["top", "left", "bottom", "right"] as const;

/**
 * The box spanned by the points (method §2: x0 = left.x, y0 = top.y, x1 = right.x,
 * y1 = bottom.y) as a COCO `[x, y, w, h]` that covers the extreme PIXELS themselves:
 * `[x0, y0, x1 − x0 + 1, y1 − y0 + 1]` (the points are integer pixel indices; MAL's `_expand_box`
 * adds the same 1, and a one-pixel-wide object gets width 1, not 0).
 *
 * This is the single box convention of the lib: for points simulated from a mask it equals
 * pycocotools' `toBbox` of the mask (`rleToBbox`); the crop box `boxFromExtremePoints` is the
 * same box in continuous coordinates (`x1 = right.x + 1`, exclusive), so paste-back's clip to the
 * object box keeps exactly the pixels of this bbox; and it is the `bbox` of exported
 * annotations (method §5).
 */
export function bboxFromExtremePoints(points: ExtremePoints): Bbox {
  const [top, left, bottom, right] = points;
  return [left[0], top[1], right[0] - left[0] + 1, bottom[1] - top[1] + 1];
}
