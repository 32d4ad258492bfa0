import type { SimilarityConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { check, fieldPath, present, resolveOnto } from "./config-field.js";

/**
 * The Sinkhorn floor the graph uses (libs/models sinkhorn's default). MethodConfig has no field
 * for it, so a model cannot record another; clamp_min is accepted only at this value.
 */
export const SINKHORN_CLAMP_MIN = 1e-12;

/**
 * A wire SimilarityConfig (path `prefix`, e.g. "similarity") onto `c`: attention_layer →
 * extractor.attentionLayer (in [−depth, depth − 1]), sinkhorn.max_iterations / tolerance →
 * retrieval.sinkhornIterations / sinkhornTolerance.
 */
export function applySimilarityConfig(
  c: MethodConfig,
  wire: SimilarityConfig | null | undefined,
  prefix: string,
): MethodConfig {
  const w = present(wire);
  if (!w) return c;
  const f = (name: string) => fieldPath(prefix, name);
  const s = present(w.sinkhorn);
  const depth = c.model.depth;
  if (w.attentionLayer !== undefined) check.integer(f("attention_layer"), w.attentionLayer, -depth, depth - 1);
  if (s?.maxIterations !== undefined) check.integer(f("sinkhorn.max_iterations"), s.maxIterations, 1, 1000);
  if (s?.tolerance !== undefined) check.range(f("sinkhorn.tolerance"), s.tolerance, 0, 1, { min: true });
  if (s?.clampMin !== undefined) check.only(f("sinkhorn.clamp_min"), s.clampMin, SINKHORN_CLAMP_MIN, "1e-12");
  return resolveOnto(
    c,
    {
      extractor: w.attentionLayer !== undefined ? { attentionLayer: w.attentionLayer } : {},
      retrieval: {
        ...(s?.maxIterations !== undefined ? { sinkhornIterations: s.maxIterations } : {}),
        ...(s?.tolerance !== undefined ? { sinkhornTolerance: s.tolerance } : {}),
      },
    },
    {
      "extractor.attentionLayer": f("attention_layer"),
      "retrieval.sinkhornIterations": f("sinkhorn.max_iterations"),
      "retrieval.sinkhornTolerance": f("sinkhorn.tolerance"),
    },
  );
}

/** The fully resolved wire SimilarityConfig of `c`. */
export function similarityConfigToWire(c: MethodConfig): SimilarityConfig {
  return {
    attentionLayer: c.extractor.attentionLayer,
    sinkhorn: {
      maxIterations: c.retrieval.sinkhornIterations,
      tolerance: c.retrieval.sinkhornTolerance,
      clampMin: SINKHORN_CLAMP_MIN,
    },
  };
}
