// Test oracle: pycocotools' rleFrPoly transcribed line for line, storing the whole fine walk as
// the C code does (memory grows with the edges' length). It is the rasteriser this lib used
// before the clipped one in polygon.ts and passed every pycocotools vector; specs compare the
// two on polygons small enough to walk.

const SCALE = 5;
const INT_MIN = -2147483648;

/** C's `(int)` cast of a double: truncation; NaN and out-of-range give x86's INT_MIN. */
function cInt(v: number): number {
  return Number.isNaN(v) || v >= 2147483648 || v < -2147483648 ? INT_MIN : Math.trunc(v);
}

/** Run lengths of one polygon by the full fine walk of rleFrPoly (line for line). */
export function walkedPolygonRunLengths(xy: ArrayLike<number>, height: number, width: number): number[] {
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
