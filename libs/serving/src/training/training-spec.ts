import { existsSync } from "node:fs";
import { type TrainingJobSpec, type VitConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { DomainError, InvalidArgumentError, NotFoundError } from "@exits/platform";
import { present } from "../config/index.js";
import type { DataPaths } from "../paths/data-paths.js";
import { type ResolvedDataset, readDataset, resolveDatasetRef } from "./dataset-ref.js";
import { holdsModel, locateModel } from "./model-dir.js";
import { type SweepPlan, sweepPlanFromWire } from "./sweep-config.js";
import {
  extractorSettingsFromWire,
  generatorSettingsFromWire,
  type ServiceExecutionDefaults,
} from "./training-config.js";
import type { JobExecution } from "./training-defaults.js";

export type TrainingKind = "extractor" | "retrieval_sweep" | "generator";

/**
 * A training job as it runs: checked, every default filled, paths as client paths (re-resolved
 * inside the data directory when the job runs). JSON-safe: it is persisted with the job.
 */
export interface ResolvedTrainingJob {
  kind: TrainingKind;
  /** TrainingJobSpec (resolved_spec) in ts-proto JSON form. */
  wire: unknown;
  config: MethodConfig;
  execution: JobExecution;
  logEverySteps: number;
  outputDir: string;
  dataset?: ResolvedDataset;
  validation?: ResolvedDataset;
  extractorModel?: string;
  sweep?: Omit<SweepPlan, "config" | "execution" | "wire">;
  /** Objects the training set holds after filters (steps depend on it). */
  objects: number;
}

/**
 * TrainingJobSpec → ResolvedTrainingJob, or INVALID_ARGUMENT / NOT_FOUND naming the field
 * ("spec.generator.config.optimizer.lr"). Reads the datasets (sizes, file names) and the
 * extractor's manifest, so a job that is queued can run.
 */
export async function resolveTrainingSpec(
  paths: DataPaths,
  spec: TrainingJobSpec | null | undefined,
  jobId: string,
  service: ServiceExecutionDefaults,
  toJson: (s: TrainingJobSpec) => unknown,
): Promise<ResolvedTrainingJob> {
  const s = present(spec);
  if (!s) throw new InvalidArgumentError("spec", "is required");
  const outputClient = s.outputDir === "" ? `models/${jobId}` : s.outputDir;
  const outputDir = paths.resolve("spec.output_dir", outputClient);
  if (holdsModel(outputDir))
    throw new DomainError("already_exists", `spec.output_dir: "${outputClient}" already holds a finished model`);
  const base = { displayName: s.displayName, labels: s.labels ?? {}, outputDir: paths.toClient(outputDir) };
  const extractor = present(s.extractor);
  const sweep = present(s.retrievalSweep);
  const generator = present(s.generator);
  const kinds = [extractor, sweep, generator].filter((k) => k !== undefined).length;
  if (kinds !== 1)
    throw new InvalidArgumentError("spec.kind", "set exactly one of extractor, retrieval_sweep, generator");

  if (extractor) {
    const p = "spec.extractor";
    checkPretrained(paths, present(present(extractor.config)?.vit), `${p}.config.vit.pretrained_weights`);
    const dataset = resolveDatasetRef(paths, extractor.dataset, `${p}.dataset`);
    const set = await readDataset(paths, dataset, `${p}.dataset`);
    const t = extractorSettingsFromWire(extractor.config, `${p}.config`, set.objects.length, service);
    return {
      kind: "extractor",
      wire: toJson({ ...base, extractor: { dataset: datasetToWire(dataset), config: t.wire } }),
      config: t.config,
      execution: t.execution,
      logEverySteps: t.logEverySteps,
      outputDir: base.outputDir,
      dataset,
      objects: set.objects.length,
    };
  }
  if (sweep) {
    const p = "spec.retrieval_sweep";
    const model = await locateModel(paths, `${p}.extractor_model`, sweep.extractorModel, "extractor");
    const validation = resolveDatasetRef(paths, sweep.validation, `${p}.validation`);
    const plan = sweepPlanFromWire(sweep.config, `${p}.config`, model.manifest.config, service);
    const set = await readDataset(paths, validation, `${p}.validation`, { groundTruth: true });
    return {
      kind: "retrieval_sweep",
      wire: toJson({
        ...base,
        retrievalSweep: { extractorModel: model.clientPath, validation: datasetToWire(validation), config: plan.wire },
      }),
      config: plan.config,
      execution: plan.execution,
      logEverySteps: 1,
      outputDir: base.outputDir,
      validation,
      extractorModel: model.clientPath,
      sweep: { grid: plan.grid, minCoverage: plan.minCoverage, maxObjects: plan.maxObjects },
      objects: set.objects.length,
    };
  }
  const g = generator!;
  const p = "spec.generator";
  checkPretrained(paths, present(present(g.config)?.vit), `${p}.config.vit.pretrained_weights`);
  const model = await locateModel(paths, `${p}.extractor_model`, g.extractorModel, "extractor");
  const dataset = resolveDatasetRef(paths, g.dataset, `${p}.dataset`);
  const set = await readDataset(paths, dataset, `${p}.dataset`);
  const validationRef = present(g.validation);
  const validation =
    validationRef && validationRef.annotations !== ""
      ? resolveDatasetRef(paths, validationRef, `${p}.validation`)
      : undefined;
  if (validation) await readDataset(paths, validation, `${p}.validation`, { groundTruth: true });
  const t = generatorSettingsFromWire(g.config, `${p}.config`, model.manifest.config, set.objects.length, service);
  return {
    kind: "generator",
    wire: toJson({
      ...base,
      generator: {
        dataset: datasetToWire(dataset),
        extractorModel: model.clientPath,
        config: t.wire,
        ...(validation ? { validation: datasetToWire(validation) } : {}),
      },
    }),
    config: t.config,
    execution: t.execution,
    logEverySteps: t.logEverySteps,
    outputDir: base.outputDir,
    dataset,
    ...(validation ? { validation } : {}),
    extractorModel: model.clientPath,
    objects: set.objects.length,
  };
}

/**
 * pretrained_weights is a path field: checked inside the data directory and for existence, then
 * refused, since the library initialises the extractor at random and the generator's encoder
 * from the extractor (a silently ignored path would mislead).
 */
function checkPretrained(paths: DataPaths, vit: VitConfig | undefined, field: string): void {
  const path = vit?.pretrainedWeights ?? "";
  if (path === "") return;
  const abs = paths.resolve(field, path);
  if (!existsSync(abs)) throw new NotFoundError(`${field} "${path}"`);
  throw new InvalidArgumentError(
    field,
    "only empty is supported (the extractor starts from a seeded random initialisation, the generator's encoder from the extractor)",
  );
}

function datasetToWire(d: ResolvedDataset) {
  return {
    annotations: d.annotations,
    imagesDir: d.imagesDir,
    categoryIds: d.categoryIds,
    maxAnnotations: d.maxAnnotations,
  };
}
