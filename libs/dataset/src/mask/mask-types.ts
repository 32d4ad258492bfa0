/**
 * A COCO run-length-encoded mask, exactly as pycocotools reads and writes it.
 *
 * - `size` is `[height, width]` (pycocotools' order, not width first).
 * - Runs are taken over the mask in COLUMN-MAJOR (Fortran) order: pixel (row r, col c) has linear
 *   index `c * height + r`. Runs alternate background/foreground and always start with a
 *   background run, which is 0 when pixel (0, 0) is foreground.
 * - `counts` is either the compressed string written by maskApi.c `rleToString` (what COCO result
 *   files and this project's exports hold) or the plain run lengths (COCO's "uncompressed RLE",
 *   used by some crowd annotations).
 */
export interface RleMask {
  size: [height: number, width: number];
  counts: string | number[];
}

/**
 * A dense binary mask for image work, ROW-MAJOR: pixel (x = column, y = row) is
 * `data[y * width + x]`; 0 is background, any other value foreground (functions here write 1).
 *
 * Conversions: `encodeMask` (→ RleMask, transposing to column-major on the fly) and `decodeRle`
 * (RleMask → BinaryMask); `toColumnMajor` / `fromColumnMajor` convert to pycocotools' Fortran
 * layout for code that needs the raw array.
 */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A COCO box `[x, y, width, height]` in pixels (floats allowed). */
export type Bbox = [x: number, y: number, width: number, height: number];
