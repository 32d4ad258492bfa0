import type { GetRetrievalDefaultsRequest, RetrievalDefaults } from "@exits/contracts";
import { DEFAULT_METHOD_CONFIG, type MethodConfig, type ModelManifest } from "@exits/exits";
import { retrievalConfigToWire } from "../config/retrieval-config.js";
import { sweepSource } from "../similarity/model-info.js";
import type { ModelSource } from "../similarity/similarity-engine.js";

const RETRIEVAL_KEYS = ["delta", "alpha", "mode", "tauFg", "tauBg", "fgFraction", "bgFraction"] as const;

/**
 * Where an extractor's retrieval defaults come from: "sweep:<job id | dataset@time>" when its
 * manifest records a sweep; "builtin" when its retrieval settings are the library's defaults;
 * otherwise "manifest:<path>" — set at training time by hand (neither a sweep nor built in).
 */
export function retrievalSource(manifest: ModelManifest, clientPath: string): string {
  const sweep = sweepSource(manifest);
  if (sweep) return sweep;
  const r = manifest.config.retrieval;
  const builtin = RETRIEVAL_KEYS.every((k) => r[k] === DEFAULT_METHOD_CONFIG.retrieval[k]);
  return builtin ? "builtin" : `manifest:${clientPath}`;
}

/**
 * RetrievalService.GetDefaults: what a call with an empty config uses for that extractor. The
 * config carries δ, α and the scale always; τ_FG / τ_BG only when the extractor's mode is "fixed".
 * In quantile mode (the built-in default) they are unset, because no fixed threshold is applied
 * — each object is cut at its own score quantiles (fractions in the manifest) — and setting
 * either τ in a request switches to fixed thresholds.
 */
export async function retrievalDefaults(
  extractors: ModelSource,
  request: GetRetrievalDefaultsRequest,
): Promise<RetrievalDefaults> {
  const lease = await extractors.acquire("extractor_model", request.extractorModel ?? "");
  try {
    const c: MethodConfig = lease.config;
    return { config: retrievalConfigToWire(c), source: retrievalSource(lease.manifest, lease.clientPath) };
  } finally {
    lease.release();
  }
}
