import { MaskInputError } from "./mask-input-error.js";
import type { BinaryMask } from "./mask-types.js";
import { checkMaskSize } from "./rle-check.js";

// Dense ↔ run lengths. pycocotools scans column-major; BinaryMask is row-major, so both
// directions walk columns and index rows with a stride instead of materialising a transpose.

/** Run lengths (column-major, starting with background) of a row-major mask: maskApi.c rleEncode. */
export function runLengthsOf(mask: BinaryMask): number[] {
  const { width: w, height: h, data } = mask;
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let c = 0; c < w; c++) {
    for (let i = c; i < h * w; i += w) {
      const v = data[i] ? 1 : 0;
      if (v !== previous) {
        counts.push(run);
        run = 0;
        previous = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/**
 * Row-major mask from column-major run lengths: maskApi.c rleDecode. Throws `MaskInputError`
 * unless the runs are non-negative integers covering exactly height·width pixels.
 */
export function maskFromRunLengths(counts: ArrayLike<number>, height: number, width: number): BinaryMask {
  checkMaskSize([height, width]);
  const total = height * width;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const n = counts[j]!;
    if (!Number.isSafeInteger(n) || n < 0)
      throw new MaskInputError(`counts[${j}]`, `run length ${String(n)} is not a non-negative integer`);
    pos += n;
    if (pos > total) throw new MaskInputError("counts", `runs cover more than ${height}x${width} = ${total} pixels`);
  }
  if (pos !== total)
    throw new MaskInputError("counts", `runs cover ${pos} pixels, expected ${height}x${width} = ${total}`);
  const data = new Uint8Array(total);
  pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const n = counts[j]!;
    if (j % 2 === 1) {
      for (let k = pos; k < pos + n; k++) {
        const r = k % height;
        data[r * width + (k - r) / height] = 1;
      }
    }
    pos += n;
  }
  return { width, height, data };
}

/** A row-major mask as a column-major (Fortran order, pycocotools' layout) byte array. */
export function toColumnMajor(mask: BinaryMask): Uint8Array {
  const { width: w, height: h, data } = mask;
  const out = new Uint8Array(w * h);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[c * h + r] = data[r * w + c]! ? 1 : 0;
  return out;
}

/** A row-major mask from a column-major byte array of the given height and width. */
export function fromColumnMajor(columnMajor: Uint8Array, height: number, width: number): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++) data[r * width + c] = columnMajor[c * height + r]! ? 1 : 0;
  return { width, height, data };
}

/** Number of foreground pixels. */
export function popcount(mask: BinaryMask): number {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) n++;
  return n;
}
