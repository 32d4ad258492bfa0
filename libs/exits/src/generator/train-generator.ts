import { boxMaskInCrop } from "@exits/dataset";
import type { HostTensor } from "@exits/runtime";
import { photometricAugment } from "../augment/photometric.js";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { writeDownsampledChw, writeNormalisedChw } from "../data/crop-tensors.js";
import type { ObjectSet } from "../data/object-set.js";
import { trainingCrop } from "../data/training-crop.js";
import type { StageOptions } from "../extractor/train-extractor.js";
import { initGeneratorParams } from "../model/generator-model.js";
import { cropPointLabels, type ObjectPoints } from "../retrieval/point-labels.js";
import { runTrainLoop, type TrainLoopResult, trainingShape } from "../training/train-loop.js";
import { generatorTrainStep } from "./generator-step.js";

/** λ_crf at optimiser step `step` (0-based): a linear warm-up over `crfWarmupSteps`. */
export function crfWeightAt(c: MethodConfig, step: number): number {
  const w = c.generator.crfWarmupSteps;
  return c.generator.lambdaCrf * (w === 0 ? 1 : Math.min(1, (step + 1) / w));
}

/**
 * Stage one, part two (method §3.5–3.6, §4): trains the pseudo-label generator on random-margin,
 * randomly flipped crops. The student sees photometric augmentation, the teacher the same crop
 * and flip without it; retrieved points (image coordinates, `points[i]` for `set.objects[i]`)
 * are mapped into each crop with a fresh point dropout per step and object.
 * `encoder` initialises the encoder (the extractor's weights, or pretrained ones).
 */
export async function trainGenerator(
  set: ObjectSet,
  points: readonly (ObjectPoints | undefined)[] | undefined,
  c: MethodConfig,
  options: StageOptions & {
    encoder?: ReadonlyMap<string, HostTensor>;
    /** After each epoch, with the weights a label export would use then (the EMA teacher, else the student). */
    onEpochEnd?: (epoch: number, labeller: Map<string, HostTensor>) => Promise<void>;
  },
): Promise<{
  parameters: Map<string, HostTensor>;
  teacher: Map<string, HostTensor> | undefined;
  run: TrainLoopResult;
}> {
  const g = c.generator;
  if (g.supervision === "points" && (!points || points.length !== set.objects.length)) {
    throw new Error(`generator: point supervision needs retrieved points for all ${set.objects.length} objects`);
  }
  const { grid, maskSize: R } = gridOf(c);
  const S = c.crop.size;
  const factor = S / R;
  const { batch } = trainingShape(g, set.objects.length);
  const withPoints = g.supervision === "points";
  const withCrf = withPoints && g.useCrf;
  const run = await runTrainLoop({
    stage: "generator",
    dir: options.dir,
    training: g,
    jobConfig: { stage: "generator", config: c, objects: set.objects.length },
    seed: c.seed + 1,
    objects: set.objects.length,
    step: generatorTrainStep(c, batch),
    initial: initGeneratorParams(c, c.seed + 1, options.encoder),
    runtime: options.runtime,
    logger: options.logger,
    onProgress: options.onProgress,
    budgetSeconds: options.budgetSeconds,
    signal: options.signal,
    ...(options.onEpochEnd
      ? {
          onEpochEnd: (epoch, state) =>
            options.onEpochEnd!(epoch, (withCrf ? teacherOf(state.optimizerState) : undefined) ?? state.parameters),
        }
      : {}),
    async batch(indices, step, rng) {
      const images = new Float32Array(batch * 3 * S * S);
      const teacher = withCrf ? new Float32Array(batch * 3 * S * S) : undefined;
      const crfImage = withCrf ? new Float32Array(batch * 3 * R * R) : undefined;
      const box = new Float32Array(batch * R * R);
      const target = new Float32Array(batch * grid * grid);
      const known = new Float32Array(batch * grid * grid);
      const fallback = new Float32Array(batch);
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        const o = set.objects[i]!;
        const crop = trainingCrop(await set.pixels(o.imageId), o.points, c, rng);
        const student = photometricAugment(crop.image, rng, g);
        writeNormalisedChw(student, images, k * 3 * S * S);
        if (teacher) writeNormalisedChw(crop.image, teacher, k * 3 * S * S);
        if (crfImage) writeDownsampledChw(crop.image, factor, crfImage, k * 3 * R * R);
        box.set(boxMaskInCrop(crop.map, crop.box, R), k * R * R);
        if (withPoints) {
          const labels = cropPointLabels(
            crop,
            grid,
            c.retrieval.delta,
            points![i],
            g.usePointDropout ? { rng, p: c.retrieval.dropout } : undefined,
          );
          target.set(labels.target, k * grid * grid);
          known.set(labels.known, k * grid * grid);
          fallback[k] = labels.fallback ? 1 : 0;
        }
      }
      const f32 = (data: Float32Array, shape: number[]): HostTensor => ({ dtype: "float32", shape, data });
      const feeds: Record<string, HostTensor> = {
        images: f32(images, [batch, 3, S, S]),
        box: f32(box, [batch, R, R]),
      };
      if (withPoints) {
        feeds.target = f32(target, [batch, grid, grid]);
        feeds.known = f32(known, [batch, grid, grid]);
        feeds.fallback = f32(fallback, [batch]);
      }
      if (teacher && crfImage) {
        feeds.teacher_images = f32(teacher, [batch, 3, S, S]);
        feeds.crf_image = f32(crfImage, [batch, 3, R, R]);
        feeds.lambda_crf = f32(Float32Array.of(crfWeightAt(c, step)), []);
      }
      return feeds;
    },
  });
  // Without the CRF loss there is no teacher to label with (the EMA only feeds the CRF target).
  return { parameters: run.parameters, teacher: withCrf ? teacherOf(run.optimizerState) : undefined, run };
}

/** The EMA teacher's weights from the optimiser state (`ema:<name>`), when the run keeps one. */
function teacherOf(optimizerState: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> | undefined {
  const teacher = new Map<string, HostTensor>();
  for (const [k, v] of optimizerState) if (k.startsWith("ema:")) teacher.set(k.slice(4), v);
  return teacher.size > 0 ? teacher : undefined;
}
