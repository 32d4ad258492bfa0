import { MaskInputError, showValue } from "../mask/mask-input-error.js";
import type { Bbox, BinaryMask, RleMask } from "../mask/mask-types.js";
import { polygonCoordinateLimit, rleFromBbox, rleFromPolygons } from "../mask/polygon.js";
import { checkedRunLengths, checkMaskSize } from "../mask/rle-check.js";
import { compressRle, decodeRle, rleMerge } from "../mask/rle-ops.js";
import type { CocoSegmentation } from "./coco-types.js";

/** What `checkSegmentation` found a segmentation to be. */
export type SegmentationKind = "polygons" | "boxes" | "rle";

/**
 * Checks a COCO segmentation from outside without rasterising it, and says which kind it is.
 * Throws `MaskInputError` whose field is a path from `segmentation`, e.g. `segmentation[0][5]`
 * for a coordinate that is not finite or lies beyond `polygonCoordinateLimit`, or
 * `segmentation.counts` for runs that do not cover the image.
 */
export function checkSegmentation(segmentation: unknown, height: number, width: number): SegmentationKind {
  checkMaskSize([height, width], "image height, width");
  if (Array.isArray(segmentation)) {
    if (segmentation.length === 0) throw new MaskInputError("segmentation", "is an empty list");
    const limit = polygonCoordinateLimit(height, width);
    segmentation.forEach((p: unknown, i) => {
      if (!Array.isArray(p) || p.length % 2 !== 0)
        throw new MaskInputError(`segmentation[${i}]`, "is not an even-length list of numbers");
      p.forEach((v: unknown, j) => {
        if (typeof v !== "number" || !Number.isFinite(v))
          throw new MaskInputError(`segmentation[${i}][${j}]`, `${showValue(v)} is not a finite number`);
        if (Math.abs(v) > limit)
          throw new MaskInputError(
            `segmentation[${i}][${j}]`,
            `${v} is beyond ±${limit} for a ${height}x${width} image`,
          );
      });
    });
    if ((segmentation[0] as unknown[]).length !== 4) return "polygons";
    segmentation.forEach((p: unknown[], i) => {
      if (p.length !== 4) throw new MaskInputError(`segmentation[${i}]`, "is a polygon in a list of boxes");
      // The far corner becomes a polygon vertex too.
      for (const j of [2, 3])
        if (Math.abs((p[j - 2] as number) + (p[j] as number)) > limit)
          throw new MaskInputError(`segmentation[${i}][${j}]`, `the box's far side lies beyond ±${limit}`);
    });
    return "boxes";
  }
  if (typeof segmentation === "object" && segmentation !== null && "size" in segmentation && "counts" in segmentation) {
    const [h, w] = checkMaskSize(segmentation.size, "segmentation.size");
    if (h !== height || w !== width)
      throw new MaskInputError("segmentation.size", `[${h}, ${w}] differs from the image's [${height}, ${width}]`);
    checkedRunLengths(segmentation as RleMask, "segmentation.");
    return "rle";
  }
  throw new MaskInputError("segmentation", "is neither a list of polygons nor an RLE {size, counts}");
}

/**
 * The RLE of a COCO segmentation on an h × w image, as pycocotools' `COCO.annToRLE`: polygons
 * are rasterised (frPoly) and unioned, plain-counts RLE is compressed, a string RLE is kept.
 * Like pycocotools' frPyObjects, a list whose first entry has exactly 4 numbers is read as boxes
 * `[x, y, w, h]` (frBbox), not as a 2-vertex polygon. Anything else throws `MaskInputError`
 * (see `checkSegmentation`).
 */
export function segmentationToRle(segmentation: CocoSegmentation, height: number, width: number): RleMask {
  const kind = checkSegmentation(segmentation, height, width);
  if (kind === "rle") return compressRle(segmentation as RleMask);
  const lists = segmentation as number[][];
  if (kind === "boxes") return rleMerge(lists.map((b) => rleFromBbox(b as Bbox, height, width)));
  return rleFromPolygons(lists, height, width);
}

/** The row-major mask of a COCO segmentation (pycocotools `annToMask`). */
export function segmentationToMask(segmentation: CocoSegmentation, height: number, width: number): BinaryMask {
  return decodeRle(segmentationToRle(segmentation, height, width));
}
