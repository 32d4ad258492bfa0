import type { Logger } from "@exits/base";
import { boxMaskInCrop } from "@exits/dataset";
import { buildTrainStep, input } from "@exits/graph";
import { milLoss } from "@exits/models";
import type { HostTensor, RuntimeConfig } from "@exits/runtime";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { writeNormalisedChw } from "../data/crop-tensors.js";
import type { ObjectSet } from "../data/object-set.js";
import { trainingCrop } from "../data/training-crop.js";
import { extractorForward, initExtractorParams } from "../model/extractor-model.js";
import type { ProgressListener } from "../training/progress.js";
import { runTrainLoop, type TrainLoopResult, trainingShape } from "../training/train-loop.js";

export interface StageOptions {
  /** Job directory (checkpoints, loss log); resumed when it holds a checkpoint. */
  dir: string;
  runtime?: Partial<RuntimeConfig>;
  logger?: Logger;
  onProgress?: ProgressListener;
  budgetSeconds?: number;
  signal?: AbortSignal;
}

/**
 * Stage one, part one (method §3.1): trains the similarity extractor — ViT plus per-patch head —
 * on the MIL (box tightness) loss alone, on random-margin, randomly flipped crops.
 */
export async function trainExtractor(
  set: ObjectSet,
  c: MethodConfig,
  options: StageOptions,
): Promise<{ parameters: Map<string, HostTensor>; run: TrainLoopResult }> {
  const { grid } = gridOf(c);
  const S = c.crop.size;
  const { batch } = trainingShape(c.extractor, set.objects.length);
  const images = input("images", [batch, 3, S, S]);
  const box = input("box", [batch, grid, grid]);
  const { mask } = extractorForward(images, c);
  const step = buildTrainStep({
    loss: milLoss(mask, box),
    adamw: { beta1: c.extractor.beta1, beta2: c.extractor.beta2, weightDecay: c.extractor.weightDecay },
  });
  const run = await runTrainLoop({
    stage: "extractor",
    dir: options.dir,
    training: c.extractor,
    jobConfig: { stage: "extractor", config: c, objects: set.objects.length },
    seed: c.seed,
    objects: set.objects.length,
    step,
    initial: initExtractorParams(c, c.seed),
    runtime: options.runtime,
    logger: options.logger,
    onProgress: options.onProgress,
    budgetSeconds: options.budgetSeconds,
    signal: options.signal,
    async batch(indices, _step, rng) {
      const img = new Float32Array(batch * 3 * S * S);
      const boxes = new Float32Array(batch * grid * grid);
      for (let k = 0; k < indices.length; k++) {
        const o = set.objects[indices[k]!]!;
        const crop = trainingCrop(await set.pixels(o.imageId), o.points, c, rng);
        writeNormalisedChw(crop.image, img, k * 3 * S * S);
        boxes.set(boxMaskInCrop(crop.map, crop.box, grid), k * grid * grid);
      }
      return {
        images: { dtype: "float32", shape: [batch, 3, S, S], data: img },
        box: { dtype: "float32", shape: [batch, grid, grid], data: boxes },
      };
    },
  });
  return { parameters: run.parameters, run };
}
