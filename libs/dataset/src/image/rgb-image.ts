/**
 * An 8-bit RGB image in memory: `data[(y * width + x) * 3 + c]` (row-major, HWC, channels R, G, B).
 * Every decoder in this lib returns this one layout so crops, pictures and models never branch on
 * channel counts or bit depths.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A black image of the given size. */
export function createRgbImage(width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  return { width, height, data: new Uint8Array(width * height * 3) };
}
