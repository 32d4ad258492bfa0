import type { Bbox, BinaryMask, RleMask } from "./mask-types.js";
import { checkedRunLengths } from "./rle-check.js";
import { maskFromRunLengths, runLengthsOf } from "./rle-dense.js";
import { countsToString } from "./rle-string.js";

// Operations on run lengths, ported in behaviour (not in text) from pycocotools' maskApi.c so
// that every result, edge cases included, is the one COCO tools compute. Every RLE argument is
// checked first (`checkedRunLengths`): a bad one throws `MaskInputError`, never hangs.

/** The uncompressed run lengths of an RLE (decoding the string form), checked to cover h·w. */
export function runLengths(rle: RleMask): number[] {
  return checkedRunLengths(rle);
}

/** The same mask with a compressed `counts` string (what pycocotools' frPyObjects returns). */
export function compressRle(rle: RleMask): RleMask {
  const counts = checkedRunLengths(rle);
  return typeof rle.counts === "string" ? rle : { size: [rle.size[0], rle.size[1]], counts: countsToString(counts) };
}

/** RLE with a compressed `counts` string of a row-major mask (pycocotools mask.encode). */
export function encodeMask(mask: BinaryMask): RleMask {
  return { size: [mask.height, mask.width], counts: countsToString(runLengthsOf(mask)) };
}

/** Row-major mask of an RLE (pycocotools mask.decode). */
export function decodeRle(rle: RleMask): BinaryMask {
  return maskFromRunLengths(runLengths(rle), rle.size[0], rle.size[1]);
}

/** Foreground pixel count (rleArea). */
export function rleArea(rle: RleMask): number {
  const counts = runLengths(rle);
  let a = 0;
  for (let j = 1; j < counts.length; j += 2) a += counts[j]!;
  return a;
}

/**
 * Tight box `[x, y, w, h]` of the foreground (rleToBbox); `[0, 0, 0, 0]` when empty. Like the C
 * code, a foreground run that crosses a column boundary widens the box to the full height.
 */
export function rleToBbox(rle: RleMask): Bbox {
  return countsBbox(runLengths(rle), rle.size[0], rle.size[1]);
}

function countsBbox(counts: number[], h: number, w: number): Bbox {
  const m = counts.length - (counts.length % 2);
  if (m === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc += counts[j]!;
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** IoU of two boxes (bbIou); with `crowd` the denominator is the first box's area. */
export function bboxIou(dt: Bbox, gt: Bbox, crowd = false): number {
  const w = Math.min(dt[2] + dt[0], gt[2] + gt[0]) - Math.max(dt[0], gt[0]);
  if (w <= 0) return 0;
  const h = Math.min(dt[3] + dt[1], gt[3] + gt[1]) - Math.max(dt[1], gt[1]);
  if (h <= 0) return 0;
  const i = w * h;
  const da = dt[2] * dt[3];
  return i / (crowd ? da : da + gt[2] * gt[3] - i);
}

/**
 * Walks two run-length sequences that both cover `total` pixels together, calling `visit` once
 * per stretch where neither changes value (`last` on the final stretch, which is the only one
 * visited when `total` is 0). Both pycocotools' IoU and merge are this walk with a different
 * visitor. It ends on the pixel count, not, as the C code does, when both current runs are 0:
 * the same for every RLE pycocotools writes, but zero-length runs inside `counts` (legal in
 * plain counts) would stop the C walk early; here they are skipped.
 */
function forEachAlignedRun(
  a: number[],
  b: number[],
  total: number,
  visit: (length: number, inA: boolean, inB: boolean, last: boolean) => void,
): void {
  let ca = a[0] ?? 0;
  let cb = b[0] ?? 0;
  let ia = 1;
  let ib = 1;
  let va = false;
  let vb = false;
  let done = 0;
  for (;;) {
    const c = Math.min(ca, cb);
    const inA = va;
    const inB = vb;
    ca -= c;
    cb -= c;
    done += c;
    while (!ca && ia < a.length) {
      ca = a[ia++]!;
      va = !va;
    }
    while (!cb && ib < b.length) {
      cb = b[ib++]!;
      vb = !vb;
    }
    const last = done >= total;
    if (c > 0 || last) visit(c, inA, inB, last);
    if (last) return;
  }
}

function countsIou(a: number[], b: number[], total: number, crowd: boolean): number {
  let inter = 0;
  let union = 0;
  forEachAlignedRun(a, b, total, (c, inA, inB) => {
    if (inA || inB) union += c;
    if (inA && inB) inter += c;
  });
  if (inter === 0) return 0;
  if (crowd) {
    union = 0;
    for (let j = 1; j < a.length; j += 2) union += a[j]!;
  }
  return inter / union;
}

/**
 * Mask IoU exactly as pycocotools' rleIou: a box IoU pre-check first (0 stays 0, so empty vs
 * empty is 0), then −1 when the sizes differ, else intersection / union. With `gtCrowd` the
 * denominator is the detection's area (COCO's crowd rule).
 */
export function rleIou(dt: RleMask, gt: RleMask, gtCrowd = false): number {
  const a = runLengths(dt);
  const b = runLengths(gt);
  const [h, w] = dt.size;
  if (bboxIou(countsBbox(a, h, w), countsBbox(b, gt.size[0], gt.size[1]), gtCrowd) <= 0) return 0;
  if (h !== gt.size[0] || w !== gt.size[1]) return -1;
  return countsIou(a, b, h * w, gtCrowd);
}

/** IoU matrix `ious[d][g]` of detections × ground truths (pycocotools mask.iou). */
export function rleIouMatrix(dts: RleMask[], gts: RleMask[], gtCrowd: boolean[] = []): number[][] {
  return dts.map((dt) => gts.map((gt, g) => rleIou(dt, gt, gtCrowd[g] ?? false)));
}

/**
 * Union (default) or intersection of masks (rleMerge), result with a compressed `counts` string.
 * One input is returned unchanged; masks of different sizes give pycocotools' empty `0×0` RLE.
 */
export function rleMerge(masks: RleMask[], intersect = false): RleMask {
  if (masks.length === 0) return { size: [0, 0], counts: "" };
  // Every input is checked, even those after a size mismatch, so a bad one is never let through.
  const all = masks.map((m) => runLengths(m));
  const [h, w] = masks[0]!.size;
  if (masks.length === 1) return { size: [h, w], counts: countsToString(all[0]!) };
  let acc = all[0]!;
  for (let i = 1; i < masks.length; i++) {
    const other = masks[i]!;
    if (other.size[0] !== h || other.size[1] !== w) return { size: [0, 0], counts: "" };
    acc = mergeCounts(acc, all[i]!, h * w, intersect);
  }
  return { size: [h, w], counts: countsToString(acc) };
}

function mergeCounts(a: number[], b: number[], total: number, intersect: boolean): number[] {
  const out: number[] = [];
  let value = false;
  let run = 0;
  forEachAlignedRun(a, b, total, (c, inA, inB, last) => {
    const next = intersect ? inA && inB : inA || inB;
    if (next !== value) {
      out.push(run);
      run = 0;
      value = next;
    }
    run += c;
    if (last) out.push(run);
  });
  return out;
}
