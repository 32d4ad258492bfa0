import type { RgbImage } from "@exits/dataset";
import type { Rng } from "@exits/graph";

/** MAL's student-only augmentation probabilities (method §4). */
export interface PhotometricOptions {
  jitterP: number;
  grayscaleP: number;
  blurP: number;
}

/**
 * Colour jitter (brightness, contrast, saturation, each ±0.4 as torchvision's ColorJitter in MAL),
 * random grayscale and a 3 × 3 Gaussian blur of random σ, each applied with its probability. The
 * teacher sees the crop without these (method §4), so the pair differs only photometrically.
 */
export function photometricAugment(image: RgbImage, rng: Rng, o: PhotometricOptions): RgbImage {
  let data: Float32Array = Float32Array.from(image.data);
  const n = image.width * image.height;
  if (rng.next() < o.jitterP) {
    const brightness = rng.uniform(0.6, 1.4);
    const contrast = rng.uniform(0.6, 1.4);
    const saturation = rng.uniform(0.6, 1.4);
    let meanGray = 0;
    for (let p = 0; p < n; p++) meanGray += gray(data, p);
    meanGray = (meanGray / n) * brightness;
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) data[p * 3 + c] = data[p * 3 + c]! * brightness;
      const g = gray(data, p);
      for (let c = 0; c < 3; c++) {
        const saturated = g + (data[p * 3 + c]! - g) * saturation;
        data[p * 3 + c] = meanGray + (saturated - meanGray) * contrast;
      }
    }
  }
  if (rng.next() < o.grayscaleP) {
    for (let p = 0; p < n; p++) {
      const g = gray(data, p);
      data[p * 3] = g;
      data[p * 3 + 1] = g;
      data[p * 3 + 2] = g;
    }
  }
  if (rng.next() < o.blurP) data = blur3(data, image.width, image.height, rng.uniform(0.1, 2));
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(data[i]!)));
  return { width: image.width, height: image.height, data: out };
}

function gray(d: Float32Array, p: number): number {
  return 0.299 * d[p * 3]! + 0.587 * d[p * 3 + 1]! + 0.114 * d[p * 3 + 2]!;
}

/** Separable 3-tap Gaussian with mirrored edges. */
function blur3(d: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const e = Math.exp(-1 / (2 * sigma * sigma));
  const k = [e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)] as const;
  const at = (i: number, n: number) => (i < 0 ? 1 : i >= n ? n - 2 : i);
  const tmp = new Float32Array(d.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = -1; t <= 1; t++) s += k[t + 1]! * d[(y * w + at(x + t, w)) * 3 + c]!;
        tmp[(y * w + x) * 3 + c] = s;
      }
  const out = new Float32Array(d.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = -1; t <= 1; t++) s += k[t + 1]! * tmp[(at(y + t, h) * w + x) * 3 + c]!;
        out[(y * w + x) * 3 + c] = s;
      }
  return out;
}
