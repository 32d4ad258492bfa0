import { type BinaryMask, type ObjectCrop, pasteProbabilities } from "@exits/dataset";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import { canonicalCrop } from "../data/training-crop.js";
import type { ObjectMask, ObjectMaskPredictor } from "../ports/object-mask-predictor.js";

/** What the export needs of a generator: crops in, R × R probabilities out (see `MaskPredictor`). */
export interface CropPredictor {
  readonly batch: number;
  predict(crops: readonly ObjectCrop[]): Promise<Float32Array[]>;
}

/**
 * Method §5 for one object: the generator's R × R probabilities on the canonical crop, pasted
 * into the full image (bilinear, times the box) and thresholded; the score is the mean
 * probability over the mask's pixels (0 for an empty mask).
 */
export function pasteObjectMask(
  probabilities: Float32Array,
  crop: ObjectCrop,
  width: number,
  height: number,
  c: MethodConfig,
): ObjectMask {
  const { maskSize: R } = gridOf(c);
  const full = pasteProbabilities({ size: R, data: probabilities }, crop.map, crop.box, width, height);
  const mask: BinaryMask = { width, height, data: new Uint8Array(full.length) };
  let sum = 0;
  let count = 0;
  for (let p = 0; p < full.length; p++) {
    if (full[p]! >= c.export.threshold) {
      mask.data[p] = 1;
      sum += full[p]!;
      count++;
    }
  }
  return { mask, score: count ? sum / count : 0 };
}

/** Optional refinement of the crop-level probabilities before paste-back (a CRF: `crf_refine`). */
export type CropRefiner = (probabilities: Float32Array[], crops: readonly ObjectCrop[]) => Promise<Float32Array[]>;

/**
 * The embedded `ObjectMaskPredictor`: canonical crops through an in-process `CropPredictor`,
 * optionally refined, pasted back.
 */
export function cropMaskPredictor(
  predictor: CropPredictor,
  c: MethodConfig,
  refine?: CropRefiner,
): ObjectMaskPredictor {
  return {
    batch: predictor.batch,
    async predictObjects(set: ObjectSet, objects: readonly MethodObject[]): Promise<ObjectMask[]> {
      const crops: ObjectCrop[] = [];
      for (const o of objects) crops.push(canonicalCrop(await set.pixels(o.imageId), o.points, c));
      const predicted = await predictor.predict(crops);
      const probs = refine ? await refine(predicted, crops) : predicted;
      return objects.map((o, k) => {
        const { width, height } = set.image(o.imageId);
        return pasteObjectMask(probs[k]!, crops[k]!, width, height, c);
      });
    },
  };
}
