import { FillMode, type PredictConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { check, present, resolveOnto } from "../config/config-field.js";
import { type CrfSettings, crfConfigToWire, resolveCrfSettings } from "../config/crf-config.js";
import { applyCropConfig } from "../config/crop-config.js";

/** One call's settings, resolved against the model's MethodConfig. */
export interface PredictSettings {
  /** The model's config with the call's inference margin and paste threshold. */
  config: MethodConfig;
  crfRefine: boolean;
  crf: CrfSettings;
  /** What the reply's `config` says was used. */
  wire: PredictConfig;
}

/**
 * A wire PredictConfig onto the model's config (H3's crop / CRF conversions, so every service
 * names and bounds the fields alike); out-of-range values are INVALID_ARGUMENT naming
 * "config.<field>".
 */
export function resolvePredictConfig(model: MethodConfig, wire: PredictConfig | null | undefined): PredictSettings {
  const w = present(wire) ?? {};
  let c = applyCropConfig(model, present(w.crop), "config.crop", { use: "inference" });
  if (w.pasteThreshold !== undefined) {
    check.range("config.paste_threshold", w.pasteThreshold, 0, 1, { min: true, max: true });
    c = resolveOnto(c, { export: { threshold: w.pasteThreshold } }, { "export.threshold": "config.paste_threshold" });
  }
  const crfRefine = w.crfRefine ?? false;
  const crf = resolveCrfSettings(c.crf, present(w.crf), "config.crf");
  return {
    config: c,
    crfRefine,
    crf,
    wire: {
      crop: { cropSize: c.crop.size, inferenceMargin: c.crop.inferenceMargin, fill: FillMode.FILL_MODE_MIRROR },
      pasteThreshold: c.export.threshold,
      crfRefine,
      crf: crfRefine ? crfConfigToWire({ ...c.crf, ...crf }) : undefined,
    },
  };
}
