import { type RetrievalConfig, ScoreScale } from "@exits/contracts";
import { gridOf, type MethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import { check, fieldPath, present, resolveOnto } from "./config-field.js";

/**
 * A wire RetrievalConfig (path `prefix`, e.g. "config") onto `c` (the extractor manifest's config,
 * whose retrieval section holds its recorded defaults): seed_shift_patches → δ, alpha → α,
 * tau_fg / tau_bg → fixed thresholds, fg_fraction / bg_fraction → per-object quantiles.
 *
 * Threshold mode. MethodConfig.retrieval has two modes: "fixed" (τ_FG / τ_BG) and "quantile"
 * (per object, the top / bottom fg/bgFraction of the box patches, the built-in default chosen by
 * the recorded sweep in bench/quality). A client that sets tau_fg or tau_bg asks for fixed
 * thresholds (the unset one comes from the manifest's fixed-mode value); one that sets
 * fg_fraction or bg_fraction asks for quantiles (likewise); both at once is INVALID_ARGUMENT;
 * neither keeps the manifest's mode. RAW-scale thresholds are converted to the N² scale (× N²),
 * which is the scale the method compares on.
 */
export function applyRetrievalConfig(
  c: MethodConfig,
  wire: RetrievalConfig | null | undefined,
  prefix: string,
): MethodConfig {
  const w = present(wire);
  if (!w) return c;
  const f = (name: string) => fieldPath(prefix, name);
  const { grid } = gridOf(c);
  const scale = w.scoreScale ?? ScoreScale.SCORE_SCALE_UNSPECIFIED;
  if (
    scale !== ScoreScale.SCORE_SCALE_UNSPECIFIED &&
    scale !== ScoreScale.SCORE_SCALE_N_SQUARED &&
    scale !== ScoreScale.SCORE_SCALE_RAW
  )
    throw new InvalidArgumentError(f("score_scale"), `unknown score scale ${scale}`);
  const factor = scale === ScoreScale.SCORE_SCALE_RAW ? grid * grid : 1;
  if (w.seedShiftPatches !== undefined) {
    check.range(f("seed_shift_patches"), w.seedShiftPatches, 0, grid);
    if (!Number.isInteger(w.seedShiftPatches))
      throw new InvalidArgumentError(
        f("seed_shift_patches"),
        `only whole patches are supported (the method's δ is an integer), got ${w.seedShiftPatches}`,
      );
  }
  if (w.alpha !== undefined) check.integer(f("alpha"), w.alpha, 1, 64);
  if (w.tauFg !== undefined) check.finite(f("tau_fg"), w.tauFg);
  if (w.tauBg !== undefined) check.finite(f("tau_bg"), w.tauBg);
  const fixed = w.tauFg !== undefined || w.tauBg !== undefined;
  const quantile = w.fgFraction !== undefined || w.bgFraction !== undefined;
  if (fixed && quantile)
    throw new InvalidArgumentError(
      f(w.fgFraction !== undefined ? "fg_fraction" : "bg_fraction"),
      "selects per-object quantiles, which cannot be combined with tau_fg / tau_bg; set one pair",
    );
  if (w.fgFraction !== undefined) check.range(f("fg_fraction"), w.fgFraction, 0, 1);
  if (w.bgFraction !== undefined) check.range(f("bg_fraction"), w.bgFraction, 0, 1);
  const fgFraction = w.fgFraction ?? c.retrieval.fgFraction;
  const bgFraction = w.bgFraction ?? c.retrieval.bgFraction;
  if (quantile && fgFraction + bgFraction > 1)
    throw new InvalidArgumentError(
      f(w.bgFraction !== undefined ? "bg_fraction" : "fg_fraction"),
      `fg_fraction + bg_fraction must be <= 1 (got ${fgFraction} + ${bgFraction})`,
    );
  const tauFg = w.tauFg !== undefined ? w.tauFg * factor : c.retrieval.tauFg;
  const tauBg = w.tauBg !== undefined ? w.tauBg * factor : c.retrieval.tauBg;
  if (fixed && !(tauBg < tauFg))
    throw new InvalidArgumentError(
      f(w.tauBg !== undefined ? "tau_bg" : "tau_fg"),
      `tau_bg must be < tau_fg (on the N² scale: tau_bg ${tauBg}, tau_fg ${tauFg})`,
    );
  return resolveOnto(
    c,
    {
      retrieval: {
        ...(w.seedShiftPatches !== undefined ? { delta: w.seedShiftPatches } : {}),
        ...(w.alpha !== undefined ? { alpha: w.alpha } : {}),
        ...(fixed ? { mode: "fixed" as const, tauFg, tauBg } : {}),
        ...(quantile ? { mode: "quantile" as const, fgFraction, bgFraction } : {}),
      },
    },
    {
      "retrieval.delta": f("seed_shift_patches"),
      "retrieval.alpha": f("alpha"),
      "retrieval.tauFg": f("tau_fg"),
      "retrieval.tauBg": f("tau_bg"),
      "retrieval.fgFraction": f("fg_fraction"),
      "retrieval.bgFraction": f("bg_fraction"),
    },
  );
}

/**
 * The resolved wire RetrievalConfig of `c` on the N² scale: tau_fg / tau_bg in "fixed" mode,
 * fg_fraction / bg_fraction in "quantile" mode (never the idle pair, which would claim a setting
 * that was not used).
 */
export function retrievalConfigToWire(c: MethodConfig): RetrievalConfig {
  const r = c.retrieval;
  return {
    seedShiftPatches: r.delta,
    alpha: r.alpha,
    ...(r.mode === "fixed"
      ? { tauFg: r.tauFg, tauBg: r.tauBg }
      : { fgFraction: r.fgFraction, bgFraction: r.bgFraction }),
    scoreScale: ScoreScale.SCORE_SCALE_N_SQUARED,
  };
}

/** How the thresholds of `c` work, in words (for RetrievalDefaults.source and logs). */
export function describeRetrievalMode(c: MethodConfig): string {
  const r = c.retrieval;
  return r.mode === "fixed"
    ? `fixed thresholds tau_fg=${r.tauFg} tau_bg=${r.tauBg}`
    : `per-object quantiles fg_fraction=${r.fgFraction} bg_fraction=${r.bgFraction}`;
}
