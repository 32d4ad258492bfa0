import type { Bbox, RleMask } from "./mask-types.js";
import { compressRle, rleMerge } from "./rle-ops.js";

// Polygon rasterisation identical to pycocotools' rleFrPoly: vertices are scaled by 5 and
// rounded with C's (int) cast (truncation toward zero), edges are walked on that fine grid, and
// for each pixel column whose centre the fine grid hits, the edge's y crossing becomes a run
// boundary; sorting the boundaries and toggling gives an even-odd fill. Doubles are evaluated
// in the same order as the C code (JS has no fused multiply-add, like gcc -ffp-contract=off).

const SCALE = 5;
const INT_MIN = -2147483648;

/** C's `(int)` cast of a double: truncation; NaN and out-of-range give x86's INT_MIN. */
function cInt(v: number): number {
  return Number.isNaN(v) || v >= 2147483648 || v < -2147483648 ? INT_MIN : Math.trunc(v);
}

/**
 * Uncompressed run lengths of one polygon `[x0, y0, x1, y1, ...]` (COCO pixel units: pixel
 * (col c, row r) covers [c, c+1) × [r, r+1), centre (c + 0.5, r + 0.5)) on an h × w image.
 */
export function polygonRunLengths(xy: ArrayLike<number>, height: number, width: number): number[] {
  const k = Math.floor(xy.length / 2);
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(SCALE * xy[j * 2]! + 0.5);
  for (let j = 0; j < k; j++) y[j] = cInt(SCALE * xy[j * 2 + 1]! + 0.5);
  x[k] = x[0]!;
  y[k] = y[0]!;
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j]!;
    let xe = x[j + 1]!;
    let ys = y[j]!;
    let ye = y[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(cInt(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(cInt(xs + s * t + 0.5));
      }
    }
  }
  // Column crossings, downsampled back to the pixel grid.
  const boundaries: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / SCALE - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = Math.min(v[j]!, v[j - 1]!);
    yd = (yd + 0.5) / SCALE - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    yd = Math.ceil(yd);
    boundaries.push((xd * height + yd) >>> 0);
  }
  boundaries.push((height * width) >>> 0);
  const a = Uint32Array.from(boundaries).sort();
  let p = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]!;
    a[j] = t - p;
    p = t;
  }
  // Zero-length runs cancel: merge the neighbours around them.
  const b: number[] = [a[0]!];
  for (let j = 1; j < a.length; ) {
    if (a[j]! > 0) b.push(a[j++]!);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++]!;
    }
  }
  return b;
}

/** One polygon as an RLE with a compressed `counts` string (rleFrPoly + rleToString). */
export function rleFromPolygon(xy: ArrayLike<number>, height: number, width: number): RleMask {
  return compressRle({ size: [height, width], counts: polygonRunLengths(xy, height, width) });
}

/**
 * The mask of a COCO polygon segmentation (a list of polygons, one object): each polygon is
 * rasterised and the parts are unioned, as pycocotools' `annToRLE` does (frPyObjects + merge).
 */
export function rleFromPolygons(polygons: ArrayLike<number>[], height: number, width: number): RleMask {
  return rleMerge(
    polygons.map((p) => rleFromPolygon(p, height, width)),
    false,
  );
}

/** The mask of a box `[x, y, w, h]` (rleFrBbox: the box as a 4-vertex polygon). */
export function rleFromBbox(bbox: Bbox, height: number, width: number): RleMask {
  const [xs, ys] = bbox;
  const xe = xs + bbox[2];
  const ye = ys + bbox[3];
  return rleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], height, width);
}
