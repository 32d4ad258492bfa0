import type { ExtremePoints, Point } from "../points/extreme-points.js";
import type { Box } from "./box.js";
import { boxToCrop, type CropMap, imageToCrop } from "./crop-map.js";

/**
 * Extreme points in crop index space. On a flipped crop the image's left point lands on the
 * right, so left and right swap to keep the order top, left, bottom, right.
 */
export function extremePointsToCrop(map: CropMap, points: ExtremePoints): ExtremePoints {
  const [top, left, bottom, right] = points.map((p) => imageToCrop(map, p)) as ExtremePoints;
  return map.flipped ? [top, right, bottom, left] : [top, left, bottom, right];
}

/**
 * The patch (column, row) of an N × N grid over an S × S crop that contains a crop index-space
 * point: patch k covers crop pixels [k·S/N, (k + 1)·S/N). Points beyond the crop clamp to the edge.
 */
export function pointToPatch(p: Point, cropSize: number, grid: number): [col: number, row: number] {
  const side = cropSize / grid;
  const cell = (t: number) => Math.min(grid - 1, Math.max(0, Math.floor((t + 0.5) / side)));
  return [cell(p[0]), cell(p[1])];
}

/** The centre of patch (col, row) in crop index space. */
export function patchCentre(col: number, row: number, cropSize: number, grid: number): Point {
  const side = cropSize / grid;
  return [(col + 0.5) * side - 0.5, (row + 0.5) * side - 0.5];
}

/**
 * A `cells × cells` row-major 0/1 raster over the crop: 1 where the cell's centre lies inside the
 * image box `box` (the object box, usually not the enlarged one). At cells = N it marks the P_Box
 * patches (method.md §3.3); at cells = R it is the box multiplier of paste-back.
 */
export function boxMaskInCrop(map: CropMap, box: Box, cells: number): Uint8Array {
  const b = boxToCrop(map, box);
  const scale = cells / map.size;
  const out = new Uint8Array(cells * cells);
  for (let j = 0; j < cells; j++) {
    const cy = j + 0.5;
    if (cy < b.y0 * scale || cy >= b.y1 * scale) continue;
    for (let i = 0; i < cells; i++) {
      const cx = i + 0.5;
      if (cx >= b.x0 * scale && cx < b.x1 * scale) out[j * cells + i] = 1;
    }
  }
  return out;
}
