import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionProviderChoice } from "@exits/base";
import { type Logger, writeFileAtomic } from "@exits/base";
import { indexedJobName } from "@exits/cluster";
import type { ExportJobSpec } from "@exits/contracts";
import { DomainError, FailedPreconditionError } from "@exits/platform";
import type { JobContext, JobRunFunction, JobSnapshot } from "../jobs/job-types.js";
import type { ModelLease, ModelRegistry } from "../models/model-registry.js";
import type { DataPaths } from "../paths/data-paths.js";
import { mergeShards } from "./export-merge.js";
import type { ExportMetrics } from "./export-metrics.js";
import { type ExportPlan, fileSha256, planExport, readPlan, readPlanSkips } from "./export-plan.js";
import { type ExportPredictorDeps, exportMaskPredictor, timedPredictor } from "./export-predictor.js";
import { finishedShard, runShard, type ShardResult, shardDir } from "./export-shard.js";
import { type ExportShardRunners, isKubernetesShards, runShardsOn } from "./export-shard-runs.js";
import { type ExportSpecContext, type ResolvedExport, resolveExportSpec } from "./export-spec.js";
import {
  EMPTY_COUNTS,
  type ExportCounts,
  type ExportEvent,
  type ExportExtras,
  type ShardRecord,
  type SkipReasonName,
  type SkipRecord,
} from "./export-types.js";

export type ExportJob = JobSnapshot<ExportJobSpec, ExportJobSpec, ExportExtras>;
type Ctx = JobContext<ExportExtras, ExportEvent>;

/** What export jobs run with. */
export interface ExportRunDeps {
  readonly paths: DataPaths;
  readonly generators: ModelRegistry;
  readonly serviceProvider: ExecutionProviderChoice;
  /** EXITS_INTRA_OP_THREADS: used where the job's execution.intra_op_threads is 0. */
  readonly intraOpThreads: number;
  readonly logger: Logger;
  readonly metrics: ExportMetrics;
  /** MaskService adapter (EXITS_MASK_ADDRESS): masks over gRPC instead of in process. */
  readonly remoteMasks?: ExportPredictorDeps["remoteMasks"];
  /** Images per chunk (the unit kept across resume); default 32. */
  readonly chunkImages?: number;
  /**
   * Where shards run besides this process: child processes (instead of in process) and, for
   * sharding.kubernetes_indexed_job, an Indexed Job. Unset = in process, no cluster.
   */
  readonly shardRunners?: ExportShardRunners;
}

/** Skipped annotations sent on the Watch stream per job (all of them are in ListSkipped and the report). */
const MAX_SKIP_EVENTS = 1000;

/** Resolves a spec with the registry: the generator pinned to its newest version now. */
export function specContext(
  deps: Pick<ExportRunDeps, "paths" | "generators" | "serviceProvider" | "shardRunners">,
): ExportSpecContext {
  const k = deps.shardRunners?.kubernetes;
  return {
    paths: deps.paths,
    serviceProvider: deps.serviceProvider,
    kubernetes: isKubernetesShards(k) ? { ready: true } : k ? { ready: false, missing: k.missing } : undefined,
    generator: async (field: string, model: string) => {
      const d = await deps.generators.describe(field, model);
      return { clientPath: d.clientPath, config: d.manifest.config };
    },
  };
}

/**
 * The run function of export jobs (method §5 over a dataset): plan (read, check, split by
 * image), shards (up to `parallelism` at once, each retried `retries_per_shard` times, finished
 * shards and chunks kept across resumes), merge into `output_path`, manifest and report.
 */
export function exportRunFunction(
  deps: ExportRunDeps,
): JobRunFunction<ExportJobSpec, ExportJobSpec, ExportExtras, ExportEvent> {
  return async (job, ctx) => {
    const resolved = await resolveExportSpec(job.resolvedSpec, specContext(deps), { checkOutput: false });
    const lease = await deps.generators.acquire("spec.generator_model", resolved.spec.generatorModel, { wait: true });
    try {
      return await runExport(deps, job, ctx, resolved, lease);
    } finally {
      lease.release();
    }
  };
}

async function runExport(deps: ExportRunDeps, job: ExportJob, ctx: Ctx, r: ResolvedExport, lease: ModelLease) {
  const c = r.config.config;
  const reject = r.spec.invalidPolicy === 1;
  const generator = { clientPath: lease.clientPath, version: lease.version, sha256: lease.sha256 };
  let skipEvents = 0;
  const emitSkip = (record: SkipRecord) => {
    deps.metrics.annotations.inc({ outcome: "skipped" });
    if (skipEvents++ < MAX_SKIP_EVENTS) ctx.emit({ kind: "skipped", skipped: record });
  };

  ctx.report({
    done: 0,
    total: 0,
    message: ctx.resumed ? "resuming: reading the plan" : "reading and checking the input",
  });
  let plan = await readPlan(ctx.jobDir);
  if (plan && plan.inputSha256 !== (await fileSha256(r.paths.inputAnnotations)))
    throw new FailedPreconditionError(
      `spec.input_annotations: "${r.spec.inputAnnotations}" changed since the job planned it; start a new job`,
    );
  plan ??= await planExport({
    annotationsFile: r.paths.inputAnnotations,
    imagesDir: r.paths.imagesDir,
    paths: deps.paths,
    shardCount: r.sharding.shardCount,
    reject,
    keepSkipped: r.spec.keepSkipped,
    jobDir: ctx.jobDir,
    signal: ctx.signal,
    onSkip: emitSkip,
  });
  const planSkips = await readPlanSkips(ctx.jobDir);
  const indices = r.sharding.shardIndex === undefined ? plan.shards.map((s) => s.index) : [r.sharding.shardIndex];
  const shardSkips = new Map<number, SkipRecord[]>();
  const shardDone = new Map<number, number>();
  const total =
    r.sharding.shardIndex === undefined ? plan.annotationsTotal : plan.shards[r.sharding.shardIndex]!.annotations;
  const planned = r.sharding.shardIndex === undefined ? plan.skipped + plan.crowd : 0;
  let shards: ShardRecord[] = indices.map((k) => ({
    index: k,
    state: "QUEUED",
    done: 0,
    annotations: plan!.shards[k]!.annotations,
    outputDir: shardDir(ctx.jobDir, k),
    tries: 0,
    startedAtMs: 0,
    finishedAtMs: 0,
  }));
  const counts = (final?: Partial<ExportCounts>): ExportCounts => {
    const skipped = [...(r.sharding.shardIndex === undefined ? planSkips : []), ...[...shardSkips.values()].flat()];
    const byReason: Partial<Record<SkipReasonName, number>> = {};
    for (const s of skipped) byReason[s.reason] = (byReason[s.reason] ?? 0) + 1;
    return {
      ...EMPTY_COUNTS,
      imagesTotal: plan!.imagesTotal,
      annotationsTotal: total,
      annotationsSkipped: skipped.length,
      skippedByReason: byReason,
      crowd: r.sharding.shardIndex === undefined ? plan!.crowd : 0,
      ...final,
    };
  };
  const progress = () => planned + [...shardDone.values()].reduce((a, b) => a + b, 0);
  const setShard = (index: number, patch: Partial<ShardRecord>) => {
    shards = shards.map((s) => (s.index === index ? { ...s, ...patch } : s));
    const shard = shards.find((s) => s.index === index)!;
    ctx.emit({ kind: "shard", shard }, { shards, generator });
  };
  ctx.update({ shards, generator, report: counts() });
  ctx.emit({ kind: "report", report: counts() });

  const results = new Map<number, ShardResult>();
  const runOne = async (index: number) => {
    const kept = await finishedShard(ctx.jobDir, index);
    if (kept) {
      results.set(index, kept);
      shardSkips.set(
        index,
        kept.chunks.flatMap((ch) => ch.skipped),
      );
      shardDone.set(index, plan!.shards[index]!.annotations);
      setShard(index, { state: "SUCCEEDED", done: plan!.shards[index]!.annotations });
      return;
    }
    for (let attempt = 0; ; attempt++) {
      setShard(index, { state: "RUNNING", tries: attempt + 1, startedAtMs: Date.now(), error: undefined });
      const skips: SkipRecord[] = [];
      shardSkips.set(index, skips);
      try {
        const result = await runShard({
          jobDir: ctx.jobDir,
          shard: plan!.shards[index]!,
          imagesDir: r.paths.imagesDir,
          config: c,
          predictor: timedPredictor(exportMaskPredictor(deps, lease, r, c), deps.metrics),
          reject,
          manifest: { models: { generator }, jobId: job.id, shard: index },
          signal: ctx.signal,
          chunkImages: deps.chunkImages,
          onProgress: (done) => {
            shardDone.set(index, done);
            shards = shards.map((s) => (s.index === index ? { ...s, done } : s));
            ctx.report(
              { done: progress(), total, message: `exporting: ${progress()} of ${total} annotations` },
              { shards },
            );
          },
          onSkip: (record) => {
            skips.push(record);
            emitSkip(record);
          },
          onChunk: (stats) => {
            deps.metrics.annotations.inc({ outcome: "exported" }, stats.exported);
            deps.metrics.images.inc(stats.images);
            ctx.emit({ kind: "report", report: counts() }, { report: counts() });
          },
        });
        results.set(index, result);
        setShard(index, { state: "SUCCEEDED", finishedAtMs: Date.now(), done: plan!.shards[index]!.annotations });
        return;
      } catch (e) {
        if (ctx.signal.aborted) {
          setShard(index, { state: ctx.abortReason() === "cancel" ? "CANCELLED" : "INTERRUPTED" });
          throw e;
        }
        const error = { code: codeOf(e), message: (e as Error).message, field: "" };
        const last = attempt >= r.sharding.retriesPerShard || e instanceof DomainError;
        ctx.log(last ? "error" : "warn", `shard ${index} try ${attempt + 1} failed: ${error.message}`);
        setShard(index, { state: last ? "FAILED" : "RUNNING", error, finishedAtMs: last ? Date.now() : 0 });
        if (last) throw e;
      }
    }
  };
  const k8s = r.sharding.kubernetes ? deps.shardRunners?.kubernetes : undefined;
  if (r.sharding.kubernetes && !isKubernetesShards(k8s))
    throw new FailedPreconditionError(
      `spec.sharding.kubernetes_indexed_job: no cluster is configured${k8s ? ` (${k8s.missing})` : ""}`,
    );
  const runner = isKubernetesShards(k8s) ? k8s.runner : deps.shardRunners?.local;
  if (runner) {
    const error = (message: string) => ({ code: "INTERNAL", message, field: "" });
    if (isKubernetesShards(k8s)) ctx.update({ kubernetesJob: indexedJobName(job.id) });
    try {
      await runShardsOn({
        runner,
        kubernetes: isKubernetesShards(k8s) ? k8s.client : undefined,
        jobId: job.id,
        jobDir: ctx.jobDir,
        plan,
        indices,
        parallelism: r.sharding.parallelism,
        retriesPerShard: r.sharding.retriesPerShard,
        signal: ctx.signal,
        abortReason: () => ctx.abortReason(),
        listener: {
          started: (index, attempt) => {
            shardSkips.set(index, []);
            setShard(index, { state: "RUNNING", tries: attempt, startedAtMs: Date.now(), error: undefined });
          },
          retrying: (index, reason) => {
            ctx.log("warn", index === undefined ? reason : `shard ${index} failed, retrying: ${reason}`);
            if (index !== undefined) setShard(index, { error: error(reason) });
          },
          succeeded: (index, result, fresh) => {
            results.set(index, result);
            const skips = result.chunks.flatMap((ch) => ch.skipped);
            shardSkips.set(index, skips);
            shardDone.set(index, plan!.shards[index]!.annotations);
            if (fresh) {
              for (const record of skips) emitSkip(record);
              for (const chunk of result.chunks) {
                deps.metrics.annotations.inc({ outcome: "exported" }, chunk.exported);
                deps.metrics.images.inc(chunk.images);
              }
            }
            ctx.report({ done: progress(), total, message: `exporting: ${progress()} of ${total} annotations` });
            setShard(index, {
              state: "SUCCEEDED",
              done: plan!.shards[index]!.annotations,
              ...(fresh ? { finishedAtMs: Date.now() } : {}),
            });
            ctx.emit({ kind: "report", report: counts() }, { report: counts() });
          },
          failed: (index, reason, recorded) => {
            ctx.log("error", `shard ${index} failed: ${reason}`);
            const why = recorded ? { code: codeOf(recorded), message: recorded.message, field: "" } : error(reason);
            setShard(index, { state: "FAILED", error: why, finishedAtMs: Date.now() });
          },
          progress: (index, done) => {
            shardDone.set(index, done);
            shards = shards.map((s) => (s.index === index ? { ...s, done } : s));
            ctx.report(
              { done: progress(), total, message: `exporting: ${progress()} of ${total} annotations` },
              { shards },
            );
          },
          log: (level, message) => ctx.log(level, message),
        },
      });
    } catch (e) {
      if (ctx.signal.aborted) {
        const state = ctx.abortReason() === "cancel" ? "CANCELLED" : "INTERRUPTED";
        for (const s of shards) if (s.state === "RUNNING" || s.state === "QUEUED") setShard(s.index, { state });
      }
      throw e;
    }
  } else await pool(indices, r.sharding.parallelism, runOne, ctx.signal);

  const ordered = indices.map((k) => results.get(k)!);
  const stats = ordered.flatMap((s) => s.chunks);
  const exported = stats.reduce((a, s) => a + s.exported, 0);
  const scoreSum = stats.reduce((a, s) => a + s.scoreSum, 0);
  const finalCounts = (reportPath: string) =>
    counts({
      annotationsExported: exported,
      emptyMasks: stats.reduce((a, s) => a + s.emptyMasks, 0),
      meanScore: exported ? scoreSum / exported : 0,
      reportPath,
    });

  if (r.sharding.shardIndex !== undefined) {
    const reportPath = join(ctx.jobDir, `shard-${r.sharding.shardIndex}.report.json`);
    const report = finalCounts(reportPath);
    await writeReport(reportPath, report, [...shardSkips.values()].flat(), deps.paths);
    return { extras: { shards, report, generator }, message: `shard ${r.sharding.shardIndex} exported` };
  }

  ctx.report({ done: progress(), total, message: "merging the shards" });
  const output = r.paths.outputPath;
  const manifestPath = output.replace(/\.json$/, ".manifest.json");
  const reportPath = output.replace(/\.json$/, ".report.json");
  const ours = await isOwnOutput(manifestPath, job.id);
  if (!r.spec.overwrite && existsSync(output) && !ours)
    throw new DomainError(
      "already_exists",
      `spec.output_path: "${r.spec.outputPath}" appeared while the job ran; set overwrite to replace it`,
    );
  await mergeShards({
    jobDir: ctx.jobDir,
    inputAnnotations: r.paths.inputAnnotations,
    output,
    shards: ordered,
    kept: new Set(plan.kept),
    signal: ctx.signal,
  });
  const report = finalCounts(reportPath);
  const skipped = [...planSkips, ...[...shardSkips.values()].flat()];
  await writeReport(reportPath, report, skipped, deps.paths);
  await writeFileAtomic(
    manifestPath,
    `${JSON.stringify(
      {
        format: "exits-export",
        version: 1,
        createdAt: new Date().toISOString(),
        jobId: job.id,
        output: deps.paths.toClient(output),
        annotations: exported,
        config: c,
        resolvedSpec: r.spec,
        models: { generator },
        inputs: {
          annotations: { path: r.spec.inputAnnotations, sha256: plan.inputSha256 },
          imagesDir: r.spec.imagesDir,
        },
        report: deps.paths.toClient(reportPath),
      },
      null,
      2,
    )}\n`,
  );
  ctx.emit({ kind: "report", report }, { report, manifestPath, shards, generator });
  return {
    extras: { shards, report, manifestPath, generator },
    message: `exported ${exported} annotations, skipped ${report.annotationsSkipped}`,
  };
}

async function isOwnOutput(manifestPath: string, jobId: string): Promise<boolean> {
  if (!existsSync(manifestPath)) return false;
  try {
    return (JSON.parse(await readFile(manifestPath, "utf8")) as { jobId?: string }).jobId === jobId;
  } catch {
    return false;
  }
}

/** The report JSON: the counts and every skipped annotation, ordered by annotation id; paths relative. */
async function writeReport(path: string, counts: ExportCounts, skipped: SkipRecord[], paths: DataPaths) {
  const sorted = [...skipped].sort((a, b) => a.annotationId - b.annotationId || a.key - b.key);
  const body = {
    format: "exits-export-report",
    version: 1,
    ...counts,
    reportPath: paths.toClient(path),
    skipped: sorted,
  };
  await writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`);
}

function codeOf(e: unknown): string {
  const kind = (e as { statusKind?: unknown })?.statusKind;
  return typeof kind === "string" ? kind.toUpperCase() : "INTERNAL";
}

/** Runs `work` over `items`, at most `limit` at once; the first failure stops new starts and is rethrown. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>, signal: AbortSignal) {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length && !signal.aborted) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure;
  if (signal.aborted) throw signal.reason;
}

export type { ExportPlan };
