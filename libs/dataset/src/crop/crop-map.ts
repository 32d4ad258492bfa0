import type { Point } from "../points/extreme-points.js";
import type { Box } from "./box.js";

/**
 * The affine map between an image and an S × S crop of the box `box` (in continuous image
 * coordinates, see `Box`), optionally flipped horizontally.
 *
 * Pixel-centre convention (PyTorch `align_corners=False`): crop pixel u covers
 * [u, u + 1) × S⁻¹ of the box, so its centre u + 0.5 sits at image x = x0 + (u + 0.5)·bw/S.
 * Points are in INDEX space on both sides (integer = pixel centre), hence
 *     u = (x + 0.5 − x0)·S/bw − 0.5        x = (u + 0.5)·bw/S + x0 − 0.5
 * and after a horizontal flip u ← S − 1 − u. The same holds for y with the box height.
 */
export interface CropMap {
  /** The (enlarged) box the crop shows, in continuous image coordinates. */
  readonly box: Box;
  /** Crop side S in pixels. */
  readonly size: number;
  /** Whether the crop was mirrored left ↔ right after cutting. */
  readonly flipped: boolean;
}

export function createCropMap(box: Box, size: number, flipped = false): CropMap {
  if (!(box.x1 > box.x0 && box.y1 > box.y0)) throw new RangeError(`crop box is empty: ${JSON.stringify(box)}`);
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`crop size must be a positive integer, got ${size}`);
  return { box, size, flipped };
}

/** Image index-space point → crop index-space point (fractional). */
export function imageToCrop(map: CropMap, p: Point): Point {
  const { box, size } = map;
  let u = ((p[0] + 0.5 - box.x0) * size) / (box.x1 - box.x0) - 0.5;
  const v = ((p[1] + 0.5 - box.y0) * size) / (box.y1 - box.y0) - 0.5;
  if (map.flipped) u = size - 1 - u;
  return [u, v];
}

/** Crop index-space point → image index-space point (fractional). */
export function cropToImage(map: CropMap, p: Point): Point {
  const { box, size } = map;
  const u = map.flipped ? size - 1 - p[0] : p[0];
  const x = ((u + 0.5) * (box.x1 - box.x0)) / size + box.x0 - 0.5;
  const y = ((p[1] + 0.5) * (box.y1 - box.y0)) / size + box.y0 - 0.5;
  return [x, y];
}

/** A continuous image box → continuous crop box (the edges map linearly, no half-pixel shift). */
export function boxToCrop(map: CropMap, b: Box): Box {
  const { box, size } = map;
  const sx = size / (box.x1 - box.x0);
  const sy = size / (box.y1 - box.y0);
  let x0 = (b.x0 - box.x0) * sx;
  let x1 = (b.x1 - box.x0) * sx;
  if (map.flipped) [x0, x1] = [size - x1, size - x0];
  return { x0, y0: (b.y0 - box.y0) * sy, x1, y1: (b.y1 - box.y0) * sy };
}

/** The same crop mirrored left ↔ right (flipping twice gives the original map). */
export function flipCropMap(map: CropMap): CropMap {
  return { ...map, flipped: !map.flipped };
}
