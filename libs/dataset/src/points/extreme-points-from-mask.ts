import type { BinaryMask } from "../mask/mask-types.js";
import type { ExtremePoints, Point } from "./extreme-points.js";

/** Options of `extremePointsFromMask`. */
export interface ExtremeSimulationOptions {
  /** Band depth as a fraction of the box side (ExtremeNet: 0.02). */
  band?: number;
  /**
   * Move each point along its extreme row/column to the foreground pixel nearest the band's
   * midpoint (default true), so that the point lies on the object and the box the points span
   * stays the mask's tight box. With false the raw ExtremeNet midpoint is returned, which can
   * fall on background when the band is slanted or split (e.g. two horns at the top).
   */
  snap?: boolean;
}

/**
 * Extreme points simulated from a ground-truth mask with the ExtremeNet rule (method §6): for the
 * top side take the foreground pixels with y ≤ ymin + band·h (h = ymax − ymin + 1) and use the
 * midpoint (floor) of their x range at y = ymin; likewise left (x ≤ xmin + band·w), bottom
 * (y ≥ ymax − band·h) and right (x ≥ xmax − band·w). Returns integer pixel indices, or undefined
 * for an empty mask.
 */
export function extremePointsFromMask(
  mask: BinaryMask,
  options: ExtremeSimulationOptions = {},
): ExtremePoints | undefined {
  const band = options.band ?? 0.02;
  const snap = options.snap ?? true;
  const { width: w, height: h, data } = mask;
  // Per-row x range and per-column y range of the foreground: one pass over the pixels.
  const rowMin = new Int32Array(h).fill(w);
  const rowMax = new Int32Array(h).fill(-1);
  const colMin = new Int32Array(w).fill(h);
  const colMax = new Int32Array(w).fill(-1);
  for (let y = 0; y < h; y++) {
    const base = y * w;
    for (let x = 0; x < w; x++) {
      if (!data[base + x]) continue;
      if (x < rowMin[y]!) rowMin[y] = x;
      rowMax[y] = x;
      if (y < colMin[x]!) colMin[x] = y;
      colMax[x] = y;
    }
  }
  let y0 = 0;
  while (y0 < h && rowMax[y0]! < 0) y0++;
  if (y0 === h) return undefined;
  let y1 = h - 1;
  while (rowMax[y1]! < 0) y1--;
  let x0 = 0;
  while (colMax[x0]! < 0) x0++;
  let x1 = w - 1;
  while (colMax[x1]! < 0) x1--;
  const bh = y1 - y0 + 1;
  const bw = x1 - x0 + 1;

  const rangeOfRows = (from: number, to: number): [number, number] => {
    let lo = w;
    let hi = -1;
    for (let y = from; y <= to; y++)
      if (rowMax[y]! >= 0) [lo, hi] = [Math.min(lo, rowMin[y]!), Math.max(hi, rowMax[y]!)];
    return [lo, hi];
  };
  const rangeOfCols = (from: number, to: number): [number, number] => {
    let lo = h;
    let hi = -1;
    for (let x = from; x <= to; x++)
      if (colMax[x]! >= 0) [lo, hi] = [Math.min(lo, colMin[x]!), Math.max(hi, colMax[x]!)];
    return [lo, hi];
  };
  const mid = ([lo, hi]: [number, number]) => Math.floor((lo + hi) / 2);
  // Nearest foreground pixel to `m` along a row (dir "x") or column (dir "y"); ties go low.
  const nearestOnRow = (y: number, m: number) => nearest(m, w, (x) => data[y * w + x] !== 0);
  const nearestOnCol = (x: number, m: number) => nearest(m, h, (y) => data[y * w + x] !== 0);

  const topX = mid(rangeOfRows(y0, Math.min(y1, Math.floor(y0 + band * bh))));
  const bottomX = mid(rangeOfRows(Math.max(y0, Math.ceil(y1 - band * bh)), y1));
  const leftY = mid(rangeOfCols(x0, Math.min(x1, Math.floor(x0 + band * bw))));
  const rightY = mid(rangeOfCols(Math.max(x0, Math.ceil(x1 - band * bw)), x1));
  const top: Point = [snap ? nearestOnRow(y0, topX) : topX, y0];
  const left: Point = [x0, snap ? nearestOnCol(x0, leftY) : leftY];
  const bottom: Point = [snap ? nearestOnRow(y1, bottomX) : bottomX, y1];
  const right: Point = [x1, snap ? nearestOnCol(x1, rightY) : rightY];
  return [top, left, bottom, right];
}

function nearest(m: number, n: number, on: (i: number) => boolean): number {
  for (let d = 0; d < n; d++) {
    if (m - d >= 0 && on(m - d)) return m - d;
    if (m + d < n && on(m + d)) return m + d;
  }
  return m;
}
