import type { CrfConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import { check, fieldPath, present, resolveOnto } from "./config-field.js";

/** Everything one CRF run needs: the method's section plus the two settings MethodConfig fixes. */
export interface CrfSettings {
  iterations: number;
  zeta: number;
  /** clamp_min / clamp_max. */
  low: number;
  high: number;
  /** Odd window side (the graph builds any odd k; the training loss uses 3). */
  kernel: number;
  /** Foreground where p > threshold (MAL binarises with > 0.5). */
  binarizeThreshold: number;
}

/** The window and threshold of MethodConfig's CRF (the generator's CRF loss): not configurable there. */
export const METHOD_CRF_KERNEL = 3;
export const METHOD_CRF_THRESHOLD = 0.5;
const MAX_KERNEL = 15;

/**
 * A wire CrfConfig (path `prefix`, e.g. "config" or "config.crf") onto the CRF section `base`,
 * for a standalone CRF run (CrfService, refinement before pasting): kernel_size may be any odd
 * value in [3, 15] and binarize_threshold any value in (0, 1).
 */
export function resolveCrfSettings(
  base: MethodConfig["crf"],
  wire: CrfConfig | null | undefined,
  prefix: string,
): CrfSettings {
  const w = present(wire) ?? {};
  const f = (name: string) => fieldPath(prefix, name);
  if (w.zeta !== undefined) check.range(f("zeta"), w.zeta, 0, 10, { min: true });
  if (w.iterations !== undefined) check.integer(f("iterations"), w.iterations, 1, 1000);
  if (w.clampMin !== undefined) check.range(f("clamp_min"), w.clampMin, 0, 0.5);
  if (w.clampMax !== undefined) check.range(f("clamp_max"), w.clampMax, 0.5, 1);
  if (w.kernelSize !== undefined) {
    check.integer(f("kernel_size"), w.kernelSize, 3, MAX_KERNEL);
    if (w.kernelSize % 2 !== 1) check.only(f("kernel_size"), w.kernelSize, 3, "an odd size (3, 5, …)");
  }
  if (w.binarizeThreshold !== undefined)
    check.range(f("binarize_threshold"), w.binarizeThreshold, 0, 1, { min: true, max: true });
  const low = w.clampMin ?? base.low;
  const high = w.clampMax ?? base.high;
  if (!(low < high))
    throw new InvalidArgumentError(
      f(w.clampMin !== undefined ? "clamp_min" : "clamp_max"),
      `clamp_min must be < clamp_max, got ${low} and ${high}`,
    );
  return {
    iterations: w.iterations ?? base.iterations,
    zeta: w.zeta ?? base.zeta,
    low,
    high,
    kernel: w.kernelSize ?? METHOD_CRF_KERNEL,
    binarizeThreshold: w.binarizeThreshold ?? METHOD_CRF_THRESHOLD,
  };
}

/**
 * A wire CrfConfig onto `c.crf` (training's CRF loss, ExportConfig / PredictConfig records):
 * MethodConfig has no window or threshold, so kernel_size must be unset or 3 and
 * binarize_threshold unset or 0.5 here.
 */
export function applyCrfConfig(c: MethodConfig, wire: CrfConfig | null | undefined, prefix: string): MethodConfig {
  const s = resolveCrfSettings(c.crf, wire, prefix);
  const f = (name: string) => fieldPath(prefix, name);
  check.only(f("kernel_size"), s.kernel, METHOD_CRF_KERNEL);
  check.only(f("binarize_threshold"), s.binarizeThreshold, METHOD_CRF_THRESHOLD);
  return resolveOnto(
    c,
    { crf: { iterations: s.iterations, zeta: s.zeta, low: s.low, high: s.high } },
    { "crf.iterations": f("iterations"), "crf.zeta": f("zeta"), "crf.low": f("clamp_min"), "crf.high": f("clamp_max") },
  );
}

/** CrfSettings (or a MethodConfig's CRF section, window 3 and threshold 0.5) as a fully resolved wire CrfConfig. */
export function crfConfigToWire(
  s: MethodConfig["crf"] & Partial<Pick<CrfSettings, "kernel" | "binarizeThreshold">>,
): CrfConfig {
  return {
    zeta: s.zeta,
    iterations: s.iterations,
    clampMin: s.low,
    clampMax: s.high,
    kernelSize: s.kernel ?? METHOD_CRF_KERNEL,
    binarizeThreshold: s.binarizeThreshold ?? METHOD_CRF_THRESHOLD,
  };
}
