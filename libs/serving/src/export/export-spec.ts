import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { ExecutionProviderChoice } from "@exits/base";
import { type ExportJobSpec, InvalidPolicy, type ShardingConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { DomainError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@exits/platform";
import { check, present } from "../config/config-field.js";
import type { JobClaim } from "../jobs/job-types.js";
import type { DataPaths } from "../paths/data-paths.js";
import { type ResolvedExportConfig, resolveExportConfig } from "./export-config.js";

/** Sharding with every default filled in. */
export interface ResolvedSharding {
  shardCount: number;
  /** Undefined = every shard, then the merge. */
  shardIndex?: number;
  parallelism: number;
  retriesPerShard: number;
  /** Run the shards as a Kubernetes Indexed Job (only where a cluster is configured). */
  kubernetes: boolean;
}

/** Absolute paths of an export, each checked inside the data directory. */
export interface ExportPaths {
  inputAnnotations: string;
  imagesDir: string;
  outputPath: string;
}

/** What `resolveExportSpec` needs: the data directory and the generator's manifest config. */
export interface ExportSpecContext {
  paths: DataPaths;
  /** The generator for `spec.generator_model` ("" = default): its pinned client path and config. */
  generator(field: string, model: string): Promise<{ clientPath: string; config: MethodConfig }>;
  serviceProvider: ExecutionProviderChoice;
  /**
   * Whether `sharding.kubernetes_indexed_job` can be honoured: a cluster is configured, or what
   * is missing for one (named in the FAILED_PRECONDITION). Unset = no cluster.
   */
  kubernetes?: { readonly ready: true } | { readonly ready: false; readonly missing: string };
}

export interface ResolvedExport {
  /** The spec with every default filled in (the job's resolved_spec). */
  spec: ExportJobSpec;
  paths: ExportPaths;
  sharding: ResolvedSharding;
  config: ResolvedExportConfig;
  claims: JobClaim[];
}

const MAX_SHARDS = 4096;

/**
 * Validates an ExportJobSpec and fills its defaults: every path through the data directory
 * (escapes are INVALID_ARGUMENT naming the field), the input file and image directory must
 * exist (NOT_FOUND), the output must end in ".json" and, without `overwrite`, not exist
 * (ALREADY_EXISTS); the generator is pinned to its current version; sharding is checked. Run
 * again on resume (`existing` output then allowed only when it is the job's own claim).
 */
export async function resolveExportSpec(
  wire: ExportJobSpec,
  ctx: ExportSpecContext,
  options: { checkOutput?: boolean } = {},
): Promise<ResolvedExport> {
  const { paths } = ctx;
  const inputAnnotations = paths.resolve("spec.input_annotations", wire.inputAnnotations);
  if (!existsSync(inputAnnotations) || !statSync(inputAnnotations).isFile())
    throw new NotFoundError(`spec.input_annotations: "${wire.inputAnnotations}"`);
  const imagesDir =
    wire.imagesDir === "" ? dirname(inputAnnotations) : paths.resolve("spec.images_dir", wire.imagesDir);
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory())
    throw new NotFoundError(`spec.images_dir: directory "${wire.imagesDir}"`);
  if (!wire.outputPath.endsWith(".json"))
    throw new InvalidArgumentError("spec.output_path", `"${wire.outputPath}" must end in ".json"`);
  const outputPath = paths.resolve("spec.output_path", wire.outputPath);
  if (outputPath === inputAnnotations)
    throw new InvalidArgumentError("spec.output_path", "must differ from input_annotations");
  if (options.checkOutput !== false && !wire.overwrite && existsSync(outputPath))
    throw new DomainError(
      "already_exists",
      `spec.output_path: "${wire.outputPath}" exists; set overwrite to replace it`,
    );
  const sharding = resolveSharding(present(wire.sharding), ctx.kubernetes);
  const generator = await ctx.generator("spec.generator_model", wire.generatorModel);
  const config = resolveExportConfig(generator.config, present(wire.config), "spec.config", ctx.serviceProvider);
  const policy = wire.invalidPolicy ?? InvalidPolicy.INVALID_POLICY_UNSPECIFIED;
  if (!Object.values(InvalidPolicy).includes(policy) || policy === InvalidPolicy.UNRECOGNIZED)
    throw new InvalidArgumentError("spec.invalid_policy", `unknown policy ${policy}`);
  const spec: ExportJobSpec = {
    displayName: wire.displayName,
    labels: { ...wire.labels },
    inputAnnotations: paths.toClient(inputAnnotations),
    imagesDir: paths.toClient(imagesDir),
    outputPath: paths.toClient(outputPath),
    overwrite: wire.overwrite,
    generatorModel: generator.clientPath,
    config: config.wire,
    sharding: {
      shardCount: sharding.shardCount,
      ...(sharding.shardIndex === undefined ? {} : { shardIndex: sharding.shardIndex }),
      kubernetesIndexedJob: sharding.kubernetes,
      parallelism: sharding.parallelism,
      retriesPerShard: sharding.retriesPerShard,
    },
    invalidPolicy:
      policy === InvalidPolicy.INVALID_POLICY_REJECT
        ? InvalidPolicy.INVALID_POLICY_REJECT
        : InvalidPolicy.INVALID_POLICY_SKIP,
    keepSkipped: wire.keepSkipped,
  };
  const claims: JobClaim[] =
    sharding.shardIndex === undefined
      ? [{ field: "spec.output_path", path: outputPath, clientPath: spec.outputPath }]
      : [];
  return { spec, paths: { inputAnnotations, imagesDir, outputPath }, sharding, config, claims };
}

function resolveSharding(w: ShardingConfig | undefined, cluster: ExportSpecContext["kubernetes"]): ResolvedSharding {
  const f = (name: string) => `spec.sharding.${name}`;
  const kubernetes = w?.kubernetesIndexedJob === true;
  if (kubernetes && cluster?.ready !== true)
    throw new FailedPreconditionError(
      `spec.sharding.kubernetes_indexed_job: no cluster is configured${cluster ? ` (${cluster.missing})` : ""}; leave it false to run the shards in process`,
    );
  if (kubernetes && w?.shardIndex !== undefined)
    throw new InvalidArgumentError(
      f("shard_index"),
      "cannot be combined with kubernetes_indexed_job (the Indexed Job runs every shard)",
    );
  if (w?.shardCount !== undefined) check.integer(f("shard_count"), w.shardCount, 1, MAX_SHARDS);
  const shardCount = w?.shardCount ?? 1;
  if (w?.shardIndex !== undefined && !(Number.isInteger(w.shardIndex) && w.shardIndex < shardCount))
    throw new InvalidArgumentError(f("shard_index"), `must be < shard_count ${shardCount}, got ${w.shardIndex}`);
  if (w?.parallelism !== undefined) check.integer(f("parallelism"), w.parallelism, 1, MAX_SHARDS);
  if (w?.retriesPerShard !== undefined) check.integer(f("retries_per_shard"), w.retriesPerShard, 0, 100);
  return {
    shardCount,
    ...(w?.shardIndex === undefined ? {} : { shardIndex: w.shardIndex }),
    parallelism: Math.min(shardCount, w?.parallelism ?? Math.min(shardCount, 4)),
    retriesPerShard: w?.retriesPerShard ?? 2,
    kubernetes,
  };
}
