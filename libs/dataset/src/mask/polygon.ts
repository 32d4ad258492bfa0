import { MaskInputError } from "./mask-input-error.js";
import type { Bbox, RleMask } from "./mask-types.js";
import { checkMaskSize } from "./rle-check.js";
import { compressRle, rleMerge } from "./rle-ops.js";

// Polygon rasterisation identical to pycocotools' rleFrPoly: vertices are scaled by 5 and
// rounded with C's (int) cast (truncation toward zero), edges are walked on that fine grid, and
// for each pixel column whose centre the fine grid hits, the edge's y crossing becomes a run
// boundary; sorting the boundaries and toggling gives an even-odd fill. Doubles are evaluated
// in the same order as the C code (JS has no fused multiply-add, like gcc -ffp-contract=off).
//
// The C code stores every point of the fine walk, so its memory and time grow with the edges'
// length, not the image's (a vertex at 1e6 costs 1.6 GB). Only consecutive walk points whose
// fine x differ and straddle a pixel-centre column 5n + 2 (0 ≤ n < width) ever yield a boundary,
// and along one edge the fine x is monotone, so each such step is found by bisection and the
// walk is never materialised: work and memory are bounded by the image width per edge, and the
// result is the C code's, boundaries outside the image clipped to [0, height] as there.

const SCALE = 5;
const INT_MIN = -2147483648;

/**
 * Largest |coordinate| a polygon on an h × w image may have: 100 image sides (at least 1e5), and
 * never more than 2e8, where pycocotools' 5× integer grid would overflow a C `int`.
 */
export function polygonCoordinateLimit(height: number, width: number): number {
  return Math.min(100 * Math.max(height, width, 1000), 2e8);
}

/** C's `(int)` cast of a double: truncation; NaN and out-of-range give x86's INT_MIN. */
function cInt(v: number): number {
  return Number.isNaN(v) || v >= 2147483648 || v < -2147483648 ? INT_MIN : Math.trunc(v);
}

/** One edge of the fine walk, set up exactly as rleFrPoly does before its inner loop. */
class Edge {
  readonly xs: number;
  readonly ys: number;
  readonly flip: boolean;
  readonly xMajor: boolean;
  /** Last walk index: the walk visits d = 0..length. */
  readonly length: number;
  private readonly s: number;

  constructor(x0: number, y0: number, x1: number, y1: number) {
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y0 - y1);
    this.xMajor = dx >= dy;
    this.flip = (this.xMajor && x0 > x1) || (!this.xMajor && y0 > y1);
    const [xs, xe, ys, ye] = this.flip ? [x1, x0, y1, y0] : [x0, x1, y0, y1];
    this.xs = xs;
    this.ys = ys;
    this.s = this.xMajor ? (ye - ys) / dx : (xe - xs) / dy;
    this.length = this.xMajor ? dx : dy;
  }

  private t(d: number): number {
    return this.flip ? this.length - d : d;
  }

  u(d: number): number {
    const t = this.t(d);
    return this.xMajor ? t + this.xs : cInt(this.xs + this.s * t + 0.5);
  }

  v(d: number): number {
    const t = this.t(d);
    return this.xMajor ? cInt(this.ys + this.s * t + 0.5) : t + this.ys;
  }
}

/** rleFrPoly's test for the step (prev → cur) of the walk: the boundary it adds, if any. */
function boundaryOf(uPrev: number, vPrev: number, uCur: number, vCur: number, height: number, width: number) {
  if (uCur === uPrev) return -1;
  let xd = uCur < uPrev ? uCur : uCur - 1;
  xd = (xd + 0.5) / SCALE - 0.5;
  if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) return -1;
  let yd = Math.min(vCur, vPrev);
  yd = (yd + 0.5) / SCALE - 0.5;
  if (yd < 0) yd = 0;
  else if (yd > height) yd = height;
  yd = Math.ceil(yd);
  return (xd * height + yd) >>> 0;
}

/** Boundaries from the steps inside one edge (the steps between edges are the caller's). */
function edgeBoundaries(e: Edge, height: number, width: number, out: number[]): void {
  const u0 = e.u(0);
  const uL = e.u(e.length);
  if (u0 === uL) return;
  const rising = uL > u0;
  // Fine x of the pixel-centre columns the step must straddle: X = 5n + 2, with X and X + 1
  // both inside [min u, max u].
  const lo = Math.max(Math.min(u0, uL), 2);
  const hi = Math.min(Math.max(u0, uL) - 1, SCALE * (width - 1) + 2);
  let lastStep = -1;
  for (let n = Math.ceil((lo - 2) / SCALE); SCALE * n + 2 <= hi; n++) {
    const x = SCALE * n + 2;
    // First walk index past x (u monotone in d): the step (d - 1 → d) crosses x ↔ x + 1.
    let a = 1;
    let b = e.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (rising ? e.u(m) > x : e.u(m) <= x) b = m;
      else a = m + 1;
    }
    // A step wider than one fine column (never seen, but not excluded) is found for several x.
    if (a === lastStep) continue;
    lastStep = a;
    const bd = boundaryOf(e.u(a - 1), e.v(a - 1), e.u(a), e.v(a), height, width);
    if (bd >= 0) out.push(bd);
  }
}

/**
 * Uncompressed run lengths of one polygon `[x0, y0, x1, y1, ...]` (COCO pixel units: pixel
 * (col c, row r) covers [c, c+1) × [r, r+1), centre (c + 0.5, r + 0.5)) on an h × w image.
 * Parts outside the image are clipped as pycocotools clips them. Throws `MaskInputError`
 * (field `polygon[i]`) for a non-finite coordinate or one beyond `polygonCoordinateLimit`.
 */
export function polygonRunLengths(xy: ArrayLike<number>, height: number, width: number): number[] {
  checkMaskSize([height, width], "height, width");
  const limit = polygonCoordinateLimit(height, width);
  for (let i = 0; i < xy.length; i++) {
    const c = xy[i]!;
    if (typeof c !== "number" || !Number.isFinite(c))
      throw new MaskInputError(`polygon[${i}]`, `coordinate ${String(c)} is not a finite number`);
    if (Math.abs(c) > limit)
      throw new MaskInputError(`polygon[${i}]`, `coordinate ${c} is beyond ±${limit} for a ${height}x${width} image`);
  }
  const k = Math.floor(xy.length / 2);
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(SCALE * xy[j * 2]! + 0.5);
  for (let j = 0; j < k; j++) y[j] = cInt(SCALE * xy[j * 2 + 1]! + 0.5);
  x[k] = x[0]!;
  y[k] = y[0]!;
  const boundaries: number[] = [];
  let previous: Edge | undefined;
  for (let j = 0; j < k; j++) {
    const e = new Edge(x[j]!, y[j]!, x[j + 1]!, y[j + 1]!);
    if (previous) {
      // The step from the last walk point of one edge to the first of the next.
      const d = previous.length;
      const bd = boundaryOf(previous.u(d), previous.v(d), e.u(0), e.v(0), height, width);
      if (bd >= 0) boundaries.push(bd);
    }
    edgeBoundaries(e, height, width, boundaries);
    previous = e;
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
