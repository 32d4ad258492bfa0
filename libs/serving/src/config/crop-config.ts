import { type CropConfig, FillMode } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import { check, fieldPath, present, resolveOnto } from "./config-field.js";

export interface CropConfigUse {
  /**
   * "inference" (similarity, retrieval, predict, export: only crop_size, inference_margin and
   * fill mean anything, so a training field set there is refused rather than ignored) or
   * "training" (the margins, gates and flip as well).
   */
  use?: "inference" | "training";
}

/** The method's training crop (libs/exits trainingCrop): margins in [0, max], gated per axis, flip ½. */
const TRAINING_MARGIN_MIN = 0;
const TRAINING_MARGIN_GATES = true;
const FLIP_PROBABILITY = 0.5;

/**
 * A wire CropConfig (field path `prefix`, e.g. "crop" or "config.crop") onto `c`, whose crop size is
 * the model's. crop_size must be unset or equal it. Only FILL_MODE_MIRROR is implemented: libs/dataset
 * `objectCrop` always reflects outside pixels (resample.ts "mirror", reflect-101), there is no wrap.
 */
export function applyCropConfig(
  c: MethodConfig,
  wire: CropConfig | null | undefined,
  prefix: string,
  options: CropConfigUse = {},
): MethodConfig {
  const w = present(wire);
  if (!w) return c;
  const f = (name: string) => fieldPath(prefix, name);
  if (w.cropSize !== undefined && w.cropSize !== c.crop.size)
    throw new InvalidArgumentError(
      f("crop_size"),
      `must be unset or equal the model's crop size ${c.crop.size}, got ${w.cropSize}`,
    );
  if (w.inferenceMargin !== undefined) check.range(f("inference_margin"), w.inferenceMargin, 0, 4);
  const fill = w.fill ?? FillMode.FILL_MODE_UNSPECIFIED;
  if (fill === FillMode.FILL_MODE_WRAP)
    throw new InvalidArgumentError(f("fill"), "only FILL_MODE_MIRROR is supported (crops reflect at the image border)");
  if (fill !== FillMode.FILL_MODE_UNSPECIFIED && fill !== FillMode.FILL_MODE_MIRROR)
    throw new InvalidArgumentError(f("fill"), `unknown fill mode ${fill}`);
  const training = options.use === "training";
  const trainingFields = [
    ["training_margin_min", w.trainingMarginMin],
    ["training_margin_max", w.trainingMarginMax],
    ["training_margin_gates", w.trainingMarginGates],
    ["flip_probability", w.flipProbability],
  ] as const;
  if (!training) {
    for (const [name, value] of trainingFields)
      if (value !== undefined)
        throw new InvalidArgumentError(f(name), "is a training setting; this call only uses inference_margin and fill");
  } else {
    if (w.trainingMarginMin !== undefined)
      check.only(f("training_margin_min"), w.trainingMarginMin, TRAINING_MARGIN_MIN);
    if (w.trainingMarginMax !== undefined) check.range(f("training_margin_max"), w.trainingMarginMax, 0, 4);
    if (w.trainingMarginGates !== undefined && w.trainingMarginGates !== TRAINING_MARGIN_GATES)
      throw new InvalidArgumentError(f("training_margin_gates"), "only true (MAL's gated margins) is supported");
    if (w.flipProbability !== undefined) check.only(f("flip_probability"), w.flipProbability, FLIP_PROBABILITY);
  }
  return resolveOnto(
    c,
    {
      crop: {
        ...(w.inferenceMargin !== undefined ? { inferenceMargin: w.inferenceMargin } : {}),
        ...(training && w.trainingMarginMax !== undefined ? { trainMarginMax: w.trainingMarginMax } : {}),
      },
    },
    { "crop.inferenceMargin": f("inference_margin"), "crop.trainMarginMax": f("training_margin_max") },
  );
}

/** The fully resolved wire CropConfig of `c` (for replies and manifests). */
export function cropConfigToWire(c: MethodConfig): CropConfig {
  return {
    cropSize: c.crop.size,
    inferenceMargin: c.crop.inferenceMargin,
    trainingMarginMin: TRAINING_MARGIN_MIN,
    trainingMarginMax: c.crop.trainMarginMax,
    trainingMarginGates: TRAINING_MARGIN_GATES,
    fill: FillMode.FILL_MODE_MIRROR,
    flipProbability: FLIP_PROBABILITY,
  };
}
