import { bboxFromExtremePoints, type ExtremePoints } from "../points/extreme-points.js";

/**
 * An axis-aligned box in CONTINUOUS image coordinates: pixel (i, j) covers the unit square
 * [i, i + 1) × [j, j + 1), so its centre is (i + 0.5, j + 0.5). `x1`, `y1` are exclusive.
 */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Per-side enlargement, each a fraction of the half-size of its axis (method.md §2). */
export interface Margins {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The continuous box spanned by extreme points; the convention is `bboxFromExtremePoints`'s. */
export function boxFromExtremePoints(points: ExtremePoints): Box {
  return boxFromBbox(bboxFromExtremePoints(points));
}

/** Box from a COCO `[x, y, w, h]` bbox. */
export function boxFromBbox(bbox: readonly [number, number, number, number]): Box {
  return { x0: bbox[0], y0: bbox[1], x1: bbox[0] + bbox[2], y1: bbox[1] + bbox[3] };
}

export function uniformMargins(margin: number): Margins {
  return { left: margin, top: margin, right: margin, bottom: margin };
}

/** The default inference / label-generation margin (method.md §2). */
export const INFERENCE_MARGIN = 0.3;

/**
 * Enlarges each side by `margin × half-size` of its axis: with 0.3 on every side the box
 * becomes 1.3× wider and taller, centred on the original.
 */
export function enlargeBox(box: Box, margins: Margins): Box {
  const hw = (box.x1 - box.x0) / 2;
  const hh = (box.y1 - box.y0) / 2;
  return {
    x0: box.x0 - margins.left * hw,
    y0: box.y0 - margins.top * hh,
    x1: box.x1 + margins.right * hw,
    y1: box.y1 + margins.bottom * hh,
  };
}

export function boxWidth(box: Box): number {
  return box.x1 - box.x0;
}

export function boxHeight(box: Box): number {
  return box.y1 - box.y0;
}
