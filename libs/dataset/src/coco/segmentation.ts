import type { Bbox, BinaryMask, RleMask } from "../mask/mask-types.js";
import { rleFromBbox, rleFromPolygons } from "../mask/polygon.js";
import { compressRle, decodeRle, rleMerge } from "../mask/rle-ops.js";
import type { CocoSegmentation } from "./coco-types.js";

/**
 * The RLE of a COCO segmentation on an h × w image, as pycocotools' `COCO.annToRLE`: polygons
 * are rasterised (frPoly) and unioned, plain-counts RLE is compressed, a string RLE is kept.
 * Like pycocotools' frPyObjects, a list whose first entry has exactly 4 numbers is read as boxes
 * `[x, y, w, h]` (frBbox), not as a 2-vertex polygon. Throws on anything else (empty list, odd
 * or non-numeric coordinates, RLE of another size).
 */
export function segmentationToRle(segmentation: CocoSegmentation, height: number, width: number): RleMask {
  if (Array.isArray(segmentation)) {
    if (segmentation.length === 0) throw new Error("segmentation is an empty list");
    segmentation.forEach((p, i) => {
      if (!Array.isArray(p) || p.length % 2 !== 0 || !p.every((v) => typeof v === "number" && Number.isFinite(v))) {
        throw new Error(`polygon ${i} is not an even-length list of numbers`);
      }
    });
    if (segmentation[0]!.length === 4) {
      if (!segmentation.every((p) => p.length === 4)) throw new Error("box list mixes boxes and polygons");
      return rleMerge(segmentation.map((b) => rleFromBbox(b as Bbox, height, width)));
    }
    return rleFromPolygons(segmentation, height, width);
  }
  if (segmentation && Array.isArray(segmentation.size) && segmentation.counts !== undefined) {
    const [h, w] = segmentation.size;
    if (h !== height || w !== width)
      throw new Error(`RLE size [${h}, ${w}] differs from the image's [${height}, ${width}]`);
    return compressRle(segmentation);
  }
  throw new Error("segmentation is neither a list of polygons nor an RLE {size, counts}");
}

/** The row-major mask of a COCO segmentation (pycocotools `annToMask`). */
export function segmentationToMask(segmentation: CocoSegmentation, height: number, width: number): BinaryMask {
  return decodeRle(segmentationToRle(segmentation, height, width));
}
