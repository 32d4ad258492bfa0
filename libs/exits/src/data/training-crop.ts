import {
  type ExtremePoints,
  type ObjectCrop,
  objectCrop,
  type RgbImage,
  randomMargins,
  uniformMargins,
} from "@exits/dataset";
import type { Rng } from "@exits/graph";
import type { MethodConfig } from "../config/method-config.js";

/**
 * A training crop (method §2): each side's margin drawn as MAL draws it (uniform in
 * [0, trainMarginMax], gated per axis) and a horizontal flip with probability ½.
 */
export function trainingCrop(image: RgbImage, points: ExtremePoints, c: MethodConfig, rng: Rng): ObjectCrop {
  const margins = randomMargins(() => rng.next(), { max: c.crop.trainMarginMax });
  return objectCrop(image, points, c.crop.size, { margins, flipped: rng.next() < 0.5 });
}

/** The canonical crop: the inference margin on every side, no flip (retrieval and export use it). */
export function canonicalCrop(image: RgbImage, points: ExtremePoints, c: MethodConfig): ObjectCrop {
  return objectCrop(image, points, c.crop.size, { margins: uniformMargins(c.crop.inferenceMargin) });
}
