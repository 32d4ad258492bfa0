import type { CropTransform } from "@exits/contracts";
import { type CropMap, createCropMap } from "@exits/dataset";
import { InvalidArgumentError } from "@exits/platform";
import { present } from "../config/config-field.js";

/** A crop map (and its image's size) as geometry.proto's CropTransform. */
export function cropTransformToWire(map: CropMap, image: { width: number; height: number }): CropTransform {
  return {
    box: { ...map.box },
    size: map.size,
    flipped: map.flipped,
    imageWidth: image.width,
    imageHeight: image.height,
  };
}

/**
 * A request's CropTransform (field path `field`) as a crop map; the box must be finite and
 * non-empty and `size` equal `expectedSize` when given.
 */
export function cropTransformFromWire(
  wire: CropTransform | null | undefined,
  field: string,
  expectedSize?: number,
): { map: CropMap; image: { width: number; height: number } } {
  const t = present(wire);
  if (!t) throw new InvalidArgumentError(field, "is missing; send the crop the matrix was computed on");
  const box = present(t.box);
  if (!box) throw new InvalidArgumentError(`${field}.box`, "is missing");
  for (const k of ["x0", "y0", "x1", "y1"] as const)
    if (!Number.isFinite(box[k])) throw new InvalidArgumentError(`${field}.box.${k}`, `must be finite, got ${box[k]}`);
  if (!(box.x1 > box.x0)) throw new InvalidArgumentError(`${field}.box.x1`, `must be > x0 (${box.x0}), got ${box.x1}`);
  if (!(box.y1 > box.y0)) throw new InvalidArgumentError(`${field}.box.y1`, `must be > y0 (${box.y0}), got ${box.y1}`);
  if (expectedSize !== undefined && t.size !== expectedSize)
    throw new InvalidArgumentError(`${field}.size`, `must be the model's crop size ${expectedSize}, got ${t.size}`);
  if (!(t.size > 0)) throw new InvalidArgumentError(`${field}.size`, `must be > 0, got ${t.size}`);
  return {
    map: createCropMap({ x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1 }, t.size, t.flipped),
    image: { width: t.imageWidth, height: t.imageHeight },
  };
}
