import type { BinaryMask } from "../mask/mask-types.js";
import type { Box } from "./box.js";
import type { CropMap } from "./crop-map.js";
import { boxMaskInCrop } from "./crop-points.js";
import { axisTaps, sampleBilinear } from "./resample.js";

export interface PasteBackOptions {
  /** Foreground where the pasted probability is ≥ threshold (method.md §5 default 0.5; MAL 0.1). */
  threshold?: number;
  /** Multiply the R × R map by the object box in crop coordinates first (default true, method.md §5). */
  multiplyByBox?: boolean;
  /**
   * Also zero image pixels whose centre lies outside the object box (default true). Bilinear
   * upsampling of the box-multiplied map can leak up to half a map cell past the box edge;
   * the extreme points say no object pixel lies there.
   */
  clipToBox?: boolean;
}

/** A square R × R probability map in crop orientation (flipped if the crop was). */
export interface ProbabilityMap {
  size: number;
  data: Float32Array;
}

/**
 * Pastes an R × R probability map predicted on the crop `map` back into a `width × height` image:
 * probabilities at full resolution inside the enlarged box (0 elsewhere, clipped to the image).
 *
 * This resamples the map directly at each image pixel centre with the align_corners=False rule
 * (r = (x + 0.5 − x0)·R/bw − 0.5, taps clamped at the map edge), which is exactly "resize the map
 * to the enlarged box's size in the image and paste it" when the box lies on whole pixels, and
 * stays exact for fractional boxes.
 */
export function pasteProbabilities(
  prob: ProbabilityMap,
  map: CropMap,
  objectBox: Box,
  width: number,
  height: number,
  options: PasteBackOptions = {},
): Float32Array {
  const R = prob.size;
  if (prob.data.length !== R * R)
    throw new RangeError(`probability map has ${prob.data.length} values, expected ${R}²`);
  let values = prob.data;
  if (options.multiplyByBox ?? true) {
    const boxMask = boxMaskInCrop(map, objectBox, R);
    values = new Float32Array(R * R);
    for (let i = 0; i < values.length; i++) values[i] = prob.data[i]! * boxMask[i]!;
  }
  const region = (options.clipToBox ?? true) ? intersect(map.box, objectBox) : map.box;
  const xs = Math.max(0, Math.ceil(region.x0 - 0.5));
  const xe = Math.min(width, Math.ceil(region.x1 - 0.5));
  const ys = Math.max(0, Math.ceil(region.y0 - 0.5));
  const ye = Math.min(height, Math.ceil(region.y1 - 0.5));
  const canvas = new Float32Array(width * height);
  if (xe <= xs || ye <= ys) return canvas;

  const { box } = map;
  let a = R / (box.x1 - box.x0);
  let b = (xs + 0.5 - box.x0) * a - 0.5;
  if (map.flipped) {
    b = R - 1 - b;
    a = -a;
  }
  const ay = R / (box.y1 - box.y0);
  const cols = axisTaps(xe - xs, R, a, b, "clamp");
  const rows = axisTaps(ye - ys, R, ay, (ys + 0.5 - box.y0) * ay - 0.5, "clamp");
  const patch = sampleBilinear({ width: R, height: R, channels: 1, data: values }, cols, rows);
  const pw = xe - xs;
  for (let y = ys; y < ye; y++) canvas.set(patch.subarray((y - ys) * pw, (y - ys + 1) * pw), y * width + xs);
  return canvas;
}

/** `pasteProbabilities` followed by thresholding: the full-image pseudo mask. */
export function pasteBack(
  prob: ProbabilityMap,
  map: CropMap,
  objectBox: Box,
  width: number,
  height: number,
  options: PasteBackOptions = {},
): BinaryMask {
  const threshold = options.threshold ?? 0.5;
  const canvas = pasteProbabilities(prob, map, objectBox, width, height, options);
  const data = new Uint8Array(canvas.length);
  for (let i = 0; i < canvas.length; i++) data[i] = canvas[i]! >= threshold ? 1 : 0;
  return { width, height, data };
}

function intersect(a: Box, b: Box): Box {
  return { x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) };
}
