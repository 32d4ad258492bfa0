import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  defaultExecutionProvider,
  defaultIntraOpThreads,
  executionProviders,
  type Logger,
  silentLogger,
} from "@exits/base";
import type { ExportJobSpec } from "@exits/contracts";
import { DomainError, EnvReader, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@exits/platform";
import { ModelRegistry } from "../models/model-registry.js";
import { DataPaths } from "../paths/data-paths.js";
import { specContext } from "./export-job.js";
import { readPlan } from "./export-plan.js";
import { exportMaskPredictor } from "./export-predictor.js";
import { finishedShard, runShard, type ShardResult } from "./export-shard.js";
import { clearShardFailure, writeShardFailure } from "./export-shard-failure.js";
import { resolveExportSpec } from "./export-spec.js";
import type { ExportExtras } from "./export-types.js";

/** One shard of a recorded export job, run outside the exporter (`exits export-shard`). */
export interface RunExportShardRequest {
  /** The data directory (EXITS_DATA_DIR), absolute; the exporter's, mounted in every shard pod. */
  readonly dataDir: string;
  readonly jobId: string;
  readonly index: number;
  /** SIGTERM/SIGINT: stop at the next chunk boundary, keeping the finished chunks. */
  readonly signal: AbortSignal;
  /** Annotations of the shard processed (exported or skipped) so far, of `total`. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * EXITS_EXECUTION_PROVIDER, EXITS_INTRA_OP_THREADS (used where the job's execution config says
   * 0), EXITS_EXPORT_CHUNK_IMAGES, EXITS_DEFAULT_GENERATOR. Default process.env.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
}

export interface RunExportShardOutcome {
  /** Annotations the plan gave the shard. */
  readonly annotations: number;
  readonly exported: number;
  /** Annotations whose image did not decode here (the plan's own skips are the exporter's). */
  readonly skipped: number;
  /** True when an earlier run had finished the shard (nothing was run). */
  readonly alreadyDone: boolean;
}

/**
 * Runs shard `index` of an export job the exporter recorded under
 * `<dataDir>/jobs/exporter/<jobId>/`: reads the job's resolved spec and plan (the exporter
 * writes the plan before any shard starts), leases the generator the job pinned, and exports the
 * shard's chunks with `runShard` exactly as the exporter does in process, so the merge cannot
 * tell where a shard ran. A shard whose `done.json` exists returns at once. Problems retrying
 * cannot fix are DomainErrors, recorded for the exporter too (`failure.json`).
 */
export async function runExportShard(request: RunExportShardRequest): Promise<RunExportShardOutcome> {
  const { dataDir, jobId, index, signal } = request;
  const jobDir = join(dataDir, "jobs", "exporter", jobId);
  const jobFile = join(jobDir, "job.json");
  if (!existsSync(jobFile)) throw new NotFoundError(`export job ${jobId}`);
  const job = JSON.parse(await readFile(jobFile, "utf8")) as {
    resolvedSpec?: ExportJobSpec;
    extras?: Partial<ExportExtras>;
  };
  if (!job.resolvedSpec) throw new FailedPreconditionError(`export job ${jobId} has no resolved spec`);
  const plan = await readPlan(jobDir);
  if (!plan)
    throw new FailedPreconditionError(
      `export job ${jobId} has no plan yet (the exporter writes plan/plan.json before it starts any shard)`,
    );
  if (!Number.isInteger(index) || index < 0 || index >= plan.shards.length)
    throw new InvalidArgumentError("index", `must be in [0, ${plan.shards.length}), got ${index}`);
  const shard = plan.shards[index]!;
  const kept = await finishedShard(jobDir, index);
  if (kept) return outcome(shard.annotations, kept, true);

  const read = new EnvReader(request.env ?? process.env);
  const logger = request.logger ?? silentLogger;
  const paths = new DataPaths(dataDir);
  const generators = new ModelRegistry({
    paths,
    kind: "generator",
    defaultModel: read.string("EXITS_DEFAULT_GENERATOR", "models/generator"),
    logger,
    pollMs: 0,
  });
  try {
    await clearShardFailure(jobDir, index);
    const serviceProvider = read.oneOf("EXITS_EXECUTION_PROVIDER", executionProviders, defaultExecutionProvider);
    const resolved = await resolveExportSpec(
      job.resolvedSpec,
      { ...specContext({ paths, generators, serviceProvider }), kubernetes: { ready: true } },
      { checkOutput: false },
    );
    const lease = await generators.acquire("spec.generator_model", resolved.spec.generatorModel, { wait: true });
    try {
      const pinned = job.extras?.generator;
      if (pinned && pinned.sha256 !== lease.sha256)
        throw new FailedPreconditionError(
          `spec.generator_model: "${lease.clientPath}" changed since export ${jobId} started (weights sha256 ${lease.sha256.slice(0, 12)}, the job's ${pinned.sha256.slice(0, 12)})`,
        );
      const generator = { clientPath: lease.clientPath, version: lease.version, sha256: lease.sha256 };
      const c = resolved.config.config;
      const deps = {
        intraOpThreads: read.integer("EXITS_INTRA_OP_THREADS", defaultIntraOpThreads, { min: 1, max: 256 }),
        logger,
      };
      const result = await runShard({
        jobDir,
        shard,
        imagesDir: resolved.paths.imagesDir,
        config: c,
        predictor: exportMaskPredictor(deps, lease, resolved, c),
        reject: resolved.spec.invalidPolicy === 1,
        // The same manifest as a shard run by the exporter itself.
        manifest: { models: { generator }, jobId, shard: index },
        signal,
        chunkImages: read.integer("EXITS_EXPORT_CHUNK_IMAGES", 32, { min: 1, max: 100_000 }),
        onProgress: (done) => request.onProgress?.(done, shard.annotations),
      });
      return outcome(shard.annotations, result, false);
    } finally {
      lease.release();
    }
  } catch (e) {
    if (e instanceof DomainError && !signal.aborted) await writeShardFailure(jobDir, index, e).catch(() => {});
    throw e;
  } finally {
    await generators.close();
  }
}

function outcome(annotations: number, r: ShardResult, alreadyDone: boolean): RunExportShardOutcome {
  return {
    annotations,
    exported: r.chunks.reduce((a, c) => a + c.exported, 0),
    skipped: r.chunks.reduce((a, c) => a + c.skipped.length, 0),
    alreadyDone,
  };
}
