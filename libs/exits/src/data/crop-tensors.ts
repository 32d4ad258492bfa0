import type { RgbImage } from "@exits/dataset";

/** timm / ImageNet normalisation, what ViT encoders (and their pretrained weights) expect. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Writes an S × S RGB crop into `out` at `offset` as normalised CHW floats (one [3, S, S] slot). */
export function writeNormalisedChw(image: RgbImage, out: Float32Array, offset: number): void {
  const n = image.width * image.height;
  for (let c = 0; c < 3; c++) {
    const mean = IMAGENET_MEAN[c]!;
    const inv = 1 / IMAGENET_STD[c]!;
    const base = offset + c * n;
    for (let p = 0; p < n; p++) out[base + p] = (image.data[p * 3 + c]! / 255 - mean) * inv;
  }
}

/**
 * The crop at R × R (area average over `factor × factor` blocks) as CHW floats in [0, 1]: the image
 * the CRF's pairwise term compares (method §3.6, ζ = 0.1 is on this scale).
 */
export function writeDownsampledChw(image: RgbImage, factor: number, out: Float32Array, offset: number): void {
  const r = image.width / factor;
  if (!Number.isInteger(r) || image.height !== image.width)
    throw new RangeError(`crop ${image.width}×${image.height} cannot be reduced by ${factor}`);
  const scale = 1 / (255 * factor * factor);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < r; y++) {
      for (let x = 0; x < r; x++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = (y * factor + dy) * image.width;
          for (let dx = 0; dx < factor; dx++) sum += image.data[(row + x * factor + dx) * 3 + c]!;
        }
        out[offset + c * r * r + y * r + x] = sum * scale;
      }
    }
  }
}
