import type { RgbImage } from "../image/rgb-image.js";
import type { BinaryMask } from "../mask/mask-types.js";
import type { ExtremePoints, Point } from "../points/extreme-points.js";

/** Mirrors each row of an HWC raster left ↔ right. */
export function flipRowsHorizontal<T extends Uint8Array | Float32Array>(
  data: T,
  width: number,
  height: number,
  channels: number,
): T {
  const out = new (data.constructor as { new (n: number): T })(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels;
      const d = (y * width + (width - 1 - x)) * channels;
      for (let k = 0; k < channels; k++) out[d + k] = data[s + k]!;
    }
  }
  return out;
}

export function flipImageHorizontal(image: RgbImage): RgbImage {
  return { ...image, data: flipRowsHorizontal(image.data, image.width, image.height, 3) };
}

export function flipMaskHorizontal(mask: BinaryMask): BinaryMask {
  return { ...mask, data: flipRowsHorizontal(mask.data, mask.width, mask.height, 1) };
}

/** Index-space x → width − 1 − x (pixel i ↔ pixel width − 1 − i). */
export function flipPointHorizontal(p: Point, width: number): Point {
  return [width - 1 - p[0], p[1]];
}

/**
 * Extreme points of the mirrored image. The old leftmost point becomes the new RIGHTMOST one and
 * vice versa, so left and right swap places to keep the order top, left, bottom, right.
 */
export function flipExtremePoints(points: ExtremePoints, width: number): ExtremePoints {
  const [top, left, bottom, right] = points;
  return [
    flipPointHorizontal(top, width),
    flipPointHorizontal(right, width),
    flipPointHorizontal(bottom, width),
    flipPointHorizontal(left, width),
  ];
}
