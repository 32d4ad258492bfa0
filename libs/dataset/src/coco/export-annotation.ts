import type { BinaryMask, RleMask } from "../mask/mask-types.js";
import { compressRle, encodeMask, rleArea } from "../mask/rle-ops.js";
import { bboxFromExtremePoints } from "../points/extreme-points.js";
import type { CocoAnnotation } from "./coco-types.js";

/**
 * The exported annotation of a generated mask (method §5): the source annotation's id, image
 * and category; `segmentation` = compressed RLE; `area` = the mask's pixel count (not the box
 * area); `bbox` = the box spanned by the extreme points; `iscrowd` 0; the original
 * `extreme_points`; and `score`.
 */
export function exportAnnotation(
  source: Pick<CocoAnnotation, "id" | "image_id" | "category_id"> & {
    extreme_points: NonNullable<CocoAnnotation["extreme_points"]>;
  },
  mask: BinaryMask | RleMask,
  score: number,
): CocoAnnotation {
  const rle = "data" in mask ? encodeMask(mask) : compressRle(mask);
  return {
    id: source.id,
    image_id: source.image_id,
    category_id: source.category_id,
    segmentation: rle,
    area: rleArea(rle),
    bbox: bboxFromExtremePoints(source.extreme_points),
    iscrowd: 0,
    extreme_points: source.extreme_points,
    score,
  };
}
