import {
  add,
  buildTrainStep,
  input,
  mean,
  mul,
  stopGradient,
  type Tensor,
  type TrainStep,
  withParamSource,
} from "@exits/graph";
import { dice, meanFieldCrf, milLossPerObject, pointLoss } from "@exits/models";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { generatorForward } from "../model/generator-model.js";

/**
 * The generator's training step as one graph (method §3.6): student forward on the
 * photometrically augmented crop; for points supervision the point loss with the MIL fallback;
 * with the CRF loss, the EMA teacher's forward on the same crop without photometric change
 * (its weights are the step's `ema:<name>` inputs), M_avg = (M + M_teacher)/2 without gradient,
 * the mean-field CRF of M_avg, and Dice(M, CRF(M_avg)) weighted by the `lambda_crf` input (the
 * warm-up is fed per step). MIL supervision is the box-supervised baseline: L_mil alone.
 */
export function generatorTrainStep(c: MethodConfig, batch: number): TrainStep {
  const { grid, maskSize: R } = gridOf(c);
  const S = c.crop.size;
  const g = c.generator;
  const images = input("images", [batch, 3, S, S]);
  const box = input("box", [batch, R, R]);
  const { mask } = generatorForward(images, c);
  const terms: Record<string, Tensor> = {};
  let loss: Tensor;
  if (g.supervision === "mil") {
    terms.mil = mean(milLossPerObject(mask, box));
    loss = terms.mil;
  } else {
    const target = input("target", [batch, grid, grid]);
    const known = input("known", [batch, grid, grid]);
    const fallback = input("fallback", [batch]);
    terms.point = mean(pointLoss(mask, target, known, fallback, box, g.lambdaMil));
    loss = mul(terms.point, g.lambdaPoint);
    if (g.useCrf) {
      const teacherImages = input("teacher_images", [batch, 3, S, S]);
      const crfImage = input("crf_image", [batch, 3, R, R]);
      const lambdaCrf = input("lambda_crf", []);
      const teacher = withParamSource(
        (name, shape, dtype) => input(`ema:${name}`, shape, dtype),
        () => generatorForward(teacherImages, c).mask,
      );
      const average = stopGradient(mul(add(mask, teacher), 0.5));
      const refined = stopGradient(
        meanFieldCrf(average, crfImage, box, {
          iterations: c.crf.iterations,
          zeta: c.crf.zeta,
          low: c.crf.low,
          high: c.crf.high,
        }),
      );
      terms.crf = dice(mask, refined);
      loss = add(loss, mul(terms.crf, lambdaCrf));
    }
  }
  return buildTrainStep({
    loss,
    terms,
    adamw: { beta1: g.beta1, beta2: g.beta2, weightDecay: g.weightDecay },
    ...(g.supervision === "points" && g.useCrf ? { ema: { momentum: g.emaMomentum } } : {}),
  });
}
