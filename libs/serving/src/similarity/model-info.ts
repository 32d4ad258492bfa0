import { ExecutionProvider, type ModelInfo, ModelKind, type RetrievalConfig } from "@exits/contracts";
import { gridOf, type ModelManifest } from "@exits/exits";
import { retrievalConfigToWire } from "../config/retrieval-config.js";
import { similarityConfigToWire } from "../config/similarity-config.js";

/** "cpu" | "cuda" as the wire enum; unknown (nothing compiled yet) is UNSPECIFIED. */
export function providerToWire(provider: "cpu" | "cuda" | undefined): ExecutionProvider {
  if (provider === "cuda") return ExecutionProvider.EXECUTION_PROVIDER_CUDA;
  if (provider === "cpu") return ExecutionProvider.EXECUTION_PROVIDER_CPU;
  return ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED;
}

function text(record: Record<string, unknown> | undefined, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof record?.[k] === "string") return record[k] as string;
  return undefined;
}

/** Where the retrieval defaults of an extractor come from: "sweep:<job id or dataset@time>" or "builtin". */
export function sweepSource(manifest: ModelManifest): string | undefined {
  const sweep = manifest.sweep as Record<string, unknown> | undefined;
  if (!sweep) return undefined;
  const id = text(sweep, "jobId", "job_id") ?? text(manifest.training, "sweepJobId");
  if (id) return `sweep:${id}`;
  const dataset = text(sweep, "dataset");
  const at = text(sweep, "at");
  return `sweep:${dataset ?? "unknown dataset"}${at ? `@${at}` : ""}`;
}

/** What describing a model version needs: its manifest, hash, readiness and the provider in use. */
export interface DescribedModel {
  clientPath: string;
  manifest: ModelManifest;
  sha256: string;
  ready: boolean;
  provider?: "cpu" | "cuda";
}

/**
 * ModelInfo of a model version from its manifest, for either kind. Extractors carry the
 * similarity settings and, only when the manifest records a sweep, the retrieval defaults
 * (model.proto: unset fields = no sweep); generators their mask resolution R.
 * training_config_json is the manifest's recorded training configuration (the wire spec when the
 * trainer recorded one, else the resolved MethodConfig) as JSON.
 */
export function modelInfo(d: DescribedModel): ModelInfo {
  const c = d.manifest.config;
  const training = d.manifest.training as Record<string, unknown> | undefined;
  const extractor = d.manifest.kind === "extractor";
  return {
    kind: extractor ? ModelKind.MODEL_KIND_EXTRACTOR : ModelKind.MODEL_KIND_GENERATOR,
    path: d.clientPath,
    weightsSha256: d.sha256,
    cropSize: c.crop.size,
    patchSize: c.crop.patch,
    gridSize: gridOf(c).grid,
    maskResolution: extractor ? 0 : gridOf(c).maskSize,
    vit: {
      patchSize: c.crop.patch,
      embedDim: c.model.embedDim,
      depth: c.model.depth,
      numHeads: c.model.numHeads,
      mlpRatio: c.model.mlpRatio,
      pretrainedWeights: text(training, "pretrainedWeights") ?? "",
      dropPathRate: 0,
    },
    ...(extractor
      ? {
          similarity: similarityConfigToWire(c),
          retrieval: (sweepSource(d.manifest) ? retrievalConfigToWire(c) : { scoreScale: 0 }) as RetrievalConfig,
        }
      : {}),
    trainingJobId: text(training, "jobId", "job_id") ?? "",
    trainingConfigJson: JSON.stringify(training?.["spec"] ?? training?.["config"] ?? c),
    provider: providerToWire(d.provider),
    ready: d.ready,
    exitsVersion: text(training, "exitsVersion", "exits_version") ?? "",
  };
}
