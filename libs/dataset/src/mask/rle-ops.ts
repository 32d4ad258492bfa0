import type { Bbox, BinaryMask, RleMask } from "./mask-types.js";
import { maskFromRunLengths, runLengthsOf } from "./rle-dense.js";
import { countsFromString, countsToString } from "./rle-string.js";

// Operations on run lengths, ported in behaviour (not in text) from pycocotools' maskApi.c so
// that every result, edge cases included, is the one COCO tools compute.

/** The uncompressed run lengths of an RLE (decoding the string form when needed). */
export function runLengths(rle: RleMask): number[] {
  return typeof rle.counts === "string" ? countsFromString(rle.counts) : rle.counts;
}

/** The same mask with a compressed `counts` string (what pycocotools' frPyObjects returns). */
export function compressRle(rle: RleMask): RleMask {
  return typeof rle.counts === "string"
    ? rle
    : { size: [rle.size[0], rle.size[1]], counts: countsToString(rle.counts) };
}

/** RLE with a compressed `counts` string of a row-major mask (pycocotools mask.encode). */
export function encodeMask(mask: BinaryMask): RleMask {
  return { size: [mask.height, mask.width], counts: countsToString(runLengthsOf(mask)) };
}

/** Row-major mask of an RLE (pycocotools mask.decode); throws when the runs do not cover h·w. */
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
  const counts = runLengths(rle);
  const [h, w] = rle.size;
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
 * Walks two run-length sequences of the same total length together, calling `visit` once per
 * stretch where neither changes value (`last` on the final stretch). Both pycocotools' IoU and
 * merge are this walk with a different visitor.
 */
function forEachAlignedRun(
  a: number[],
  b: number[],
  visit: (length: number, inA: boolean, inB: boolean, last: boolean) => void,
): void {
  let ca = a[0] ?? 0;
  let cb = b[0] ?? 0;
  let ia = 1;
  let ib = 1;
  let va = false;
  let vb = false;
  let remaining = 1;
  while (remaining > 0) {
    const c = Math.min(ca, cb);
    const inA = va;
    const inB = vb;
    ca -= c;
    if (!ca && ia < a.length) {
      ca = a[ia++]!;
      va = !va;
    }
    cb -= c;
    if (!cb && ib < b.length) {
      cb = b[ib++]!;
      vb = !vb;
    }
    remaining = ca + cb;
    visit(c, inA, inB, remaining === 0);
  }
}

function countsIou(a: number[], b: number[], crowd: boolean): number {
  let inter = 0;
  let union = 0;
  forEachAlignedRun(a, b, (c, inA, inB) => {
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
  if (bboxIou(rleToBbox(dt), rleToBbox(gt), gtCrowd) <= 0) return 0;
  if (dt.size[0] !== gt.size[0] || dt.size[1] !== gt.size[1]) return -1;
  return countsIou(runLengths(dt), runLengths(gt), gtCrowd);
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
  const [h, w] = masks[0]!.size;
  if (masks.length === 1) return compressRle({ size: [h, w], counts: runLengths(masks[0]!).slice() });
  let acc = runLengths(masks[0]!);
  for (let i = 1; i < masks.length; i++) {
    const other = masks[i]!;
    if (other.size[0] !== h || other.size[1] !== w) return { size: [0, 0], counts: "" };
    acc = mergeCounts(acc, runLengths(other), intersect);
  }
  return { size: [h, w], counts: countsToString(acc) };
}

function mergeCounts(a: number[], b: number[], intersect: boolean): number[] {
  const out: number[] = [];
  let value = false;
  let run = 0;
  forEachAlignedRun(a, b, (c, inA, inB, last) => {
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
