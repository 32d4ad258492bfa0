import type { RgbImage } from "../image/rgb-image.js";
import type { ExtremePoints } from "../points/extreme-points.js";
import { type Box, boxFromExtremePoints, enlargeBox, INFERENCE_MARGIN, type Margins, uniformMargins } from "./box.js";
import { cropImage } from "./crop-image.js";
import { boxToCrop, type CropMap } from "./crop-map.js";
import { extremePointsToCrop } from "./crop-points.js";
import { randomMargins, type UniformSource } from "./random-margins.js";

export interface ObjectCropOptions {
  /** Fixed margins (default: 0.3 on every side, the inference margin). */
  margins?: Margins;
  /** Draw MAL training margins from this source instead (ignores `margins`). */
  random?: UniformSource;
  /** Mirror the crop left ↔ right (augmentation); points and box follow. */
  flipped?: boolean;
}

/** Everything the method needs about one object's crop. */
export interface ObjectCrop {
  image: RgbImage;
  map: CropMap;
  margins: Margins;
  /** The object box (from the points) in image and in crop coordinates (continuous). */
  box: Box;
  boxInCrop: Box;
  /** Extreme points in crop index space, order top, left, bottom, right (swapped if flipped). */
  points: ExtremePoints;
}

/** The S × S crop of one object from its extreme points (method.md §2), with its maps and points. */
export function objectCrop(
  image: RgbImage,
  points: ExtremePoints,
  size: number,
  options: ObjectCropOptions = {},
): ObjectCrop {
  const box = boxFromExtremePoints(points);
  const margins = options.random
    ? randomMargins(options.random)
    : (options.margins ?? uniformMargins(INFERENCE_MARGIN));
  const { image: crop, map } = cropImage(image, enlargeBox(box, margins), size, { flipped: options.flipped ?? false });
  return { image: crop, map, margins, box, boxInCrop: boxToCrop(map, box), points: extremePointsToCrop(map, points) };
}
