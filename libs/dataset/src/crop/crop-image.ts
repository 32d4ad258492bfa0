import type { RgbImage } from "../image/rgb-image.js";
import type { BinaryMask } from "../mask/mask-types.js";
import type { Box } from "./box.js";
import { type CropMap, createCropMap } from "./crop-map.js";
import { axisTaps, type Border, type Raster, sampleBilinear } from "./resample.js";

/** A crop and the map back to its image. */
export interface ImageCrop {
  image: RgbImage;
  map: CropMap;
}

/**
 * Bilinear resampling of the continuous box `box` of `src` to `outW × outH`, with the
 * align_corners=False convention of `CropMap` (no antialiasing, like PyTorch's default).
 */
export function cropRaster(
  src: Raster,
  box: Box,
  outW: number,
  outH: number,
  options: { border?: Border; flipped?: boolean } = {},
): Float32Array {
  const border = options.border ?? "mirror";
  const ax = (box.x1 - box.x0) / outW;
  const ay = (box.y1 - box.y0) / outH;
  let a = ax;
  let b = box.x0 + 0.5 * ax - 0.5;
  if (options.flipped) {
    b = a * (outW - 1) + b;
    a = -a;
  }
  const cols = axisTaps(outW, src.width, a, b, border);
  const rows = axisTaps(outH, src.height, ay, box.y0 + 0.5 * ay - 0.5, border);
  return sampleBilinear(src, cols, rows);
}

/**
 * Cuts `box` out of `image` and resizes it to `size × size` (aspect ratio not kept). Pixels beyond
 * the image are filled by mirroring (method.md §2: a flat border would be a false edge for the CRF).
 */
export function cropImage(image: RgbImage, box: Box, size: number, options: { flipped?: boolean } = {}): ImageCrop {
  const map = createCropMap(box, size, options.flipped ?? false);
  const values = cropRaster({ ...image, channels: 3 }, box, size, size, { border: "mirror", flipped: map.flipped });
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.round(values[i]!);
  return { image: { width: size, height: size, data }, map };
}

/**
 * The same crop of a binary mask as foreground fractions in [0, 1] (`size²` floats, row-major).
 * Outside the image the mask is 0: mirroring would invent object parts.
 */
export function cropMask(mask: BinaryMask, map: CropMap): Float32Array {
  const src: Raster = { width: mask.width, height: mask.height, channels: 1, data: binary(mask.data) };
  return cropRaster(src, map.box, map.size, map.size, { border: "zero", flipped: map.flipped });
}

function binary(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return out;
}
