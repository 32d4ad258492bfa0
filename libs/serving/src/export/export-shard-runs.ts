import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LogLevel } from "@exits/base";
import {
  type IndexedJobClient,
  indexedJobName,
  indexedJobStatus,
  type ShardEvent,
  type ShardRunner,
} from "@exits/cluster";
import { type DomainError, UnavailableError } from "@exits/platform";
import type { JobAbortReason } from "../jobs/job-types.js";
import type { ExportPlan } from "./export-plan.js";
import { type ChunkStats, finishedShard, type ShardResult, shardDir } from "./export-shard.js";
import { readShardFailure } from "./export-shard-failure.js";

/** Where the exporter runs the shards besides its own process (see ExportRunDeps.shardRunners). */
export interface ExportShardRunners {
  /** Child processes of `exits export-shard` (EXITS_EXPORT_SHARD_RUNNER=process); unset = in process. */
  readonly local?: ShardRunner;
  /** Indexed Jobs, for sharding.kubernetes_indexed_job, when a cluster is configured; else why not. */
  readonly kubernetes?: KubernetesShards | { readonly missing: string };
}

/** A configured cluster: the runner that follows the Job and the client it uses. */
export interface KubernetesShards {
  readonly runner: ShardRunner;
  readonly client: IndexedJobClient;
}

export function isKubernetesShards(k: ExportShardRunners["kubernetes"]): k is KubernetesShards {
  return k !== undefined && "runner" in k;
}

/** What the export job learns while a runner works (its callbacks update the shard records). */
export interface ShardRunListener {
  started(index: number, attempt: number): void;
  /** `index` unset where the runner does not say which shard (Kubernetes counts failed pods). */
  retrying(index: number | undefined, reason: string): void;
  /** Once per shard, with its `done.json`; `fresh` = finished by this run (not an earlier one). */
  succeeded(index: number, result: ShardResult, fresh: boolean): void;
  /** `error`: what the shard recorded (failure.json), when it did. */
  failed(index: number, reason: string, error?: DomainError): void;
  /** Annotations of the shard processed so far, read from its finished chunks on disk. */
  progress(index: number, done: number): void;
  log(level: LogLevel, message: string): void;
}

export interface ShardRunsOptions {
  readonly runner: ShardRunner;
  /** With the Kubernetes runner: its client, to replace a Job that already failed. */
  readonly kubernetes?: IndexedJobClient;
  readonly jobId: string;
  readonly jobDir: string;
  readonly plan: ExportPlan;
  /** The shards this job runs; the plan's others count as finished (shard_index set). */
  readonly indices: readonly number[];
  readonly parallelism: number;
  readonly retriesPerShard: number;
  /** The job's signal: a cancel stops the shards (pods deleted, processes stopped). */
  readonly signal: AbortSignal;
  /** "shutdown" leaves an Indexed Job running (a restart adopts it); local children are stopped. */
  readonly abortReason: () => JobAbortReason | undefined;
  readonly listener: ShardRunListener;
  /** How often the shards' finished chunks are counted for progress. Default 1000 ms. */
  readonly pollMs?: number;
}

/**
 * Runs the job's shards through a {@link ShardRunner} (child processes or an Indexed Job), each
 * running `exits export-shard`, i.e. `runExportShard` over the same plan: shards already done
 * are passed as finished, progress is read from the chunks the shards write, and the results
 * are the shards' `done.json` files, merged by the caller exactly as in process. A shard that
 * failed for good fails the run with the DomainError it recorded (`failure.json`), else with
 * the runner's reason.
 */
export async function runShardsOn(o: ShardRunsOptions): Promise<Map<number, ShardResult>> {
  const ours = new Set(o.indices);
  const results = new Map<number, ShardResult>();
  const finished: number[] = [];
  for (const s of o.plan.shards) {
    const kept = ours.has(s.index) ? await finishedShard(o.jobDir, s.index) : undefined;
    if (!ours.has(s.index) || kept) finished.push(s.index);
    if (kept) {
      results.set(s.index, kept);
      o.listener.succeeded(s.index, kept, false);
    }
  }
  if (o.kubernetes) await replaceFailedJob(o.kubernetes, o.jobId, o.listener);

  // A cancel stops the shards; a shutdown only detaches from an Indexed Job.
  const cancel = new AbortController();
  const detach = new AbortController();
  const onAbort = () => {
    const leave = o.abortReason() === "shutdown" && o.runner.kind === "kubernetes";
    (leave ? detach : cancel).abort(o.signal.reason);
  };
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener("abort", onAbort, { once: true });

  const reasons = new Map<number, string>();
  const seen = new Map<number, number>();
  let polling: Promise<void> | undefined;
  const poll = async () => {
    for (const index of o.indices) {
      if (results.has(index)) continue;
      const done = await processedOnDisk(o.jobDir, index);
      if (done > (seen.get(index) ?? 0)) {
        seen.set(index, done);
        o.listener.progress(index, done);
      }
    }
  };
  const timer = setInterval(() => {
    polling ??= poll()
      .catch(() => {})
      .finally(() => {
        polling = undefined;
      });
  }, o.pollMs ?? 1000);
  let end: Extract<ShardEvent, { type: "finished" }> | undefined;
  try {
    if (o.runner.kind === "kubernetes")
      for (const index of o.indices) if (!results.has(index)) o.listener.started(index, 1);
    for await (const e of o.runner.run({
      exportJobId: o.jobId,
      shards: o.plan.shards.length,
      parallelism: o.parallelism,
      retriesPerShard: o.retriesPerShard,
      finished,
      signal: cancel.signal,
      detach: detach.signal,
    })) {
      if (e.type === "started") o.listener.started(e.index, e.attempt);
      else if (e.type === "retrying") {
        o.listener.retrying(e.index, e.reason);
      } else if (e.type === "succeeded") {
        if (!ours.has(e.index) || results.has(e.index)) continue;
        const result = await finishedShard(o.jobDir, e.index);
        if (!result) throw new Error(`shard ${e.index} reported success but wrote no done.json`);
        results.set(e.index, result);
        o.listener.succeeded(e.index, result, true);
      } else if (e.type === "failed") {
        reasons.set(e.index, e.reason);
        if (ours.has(e.index)) o.listener.failed(e.index, e.reason, await readShardFailure(o.jobDir, e.index));
      } else end = e;
    }
  } finally {
    clearInterval(timer);
    await polling;
    o.signal.removeEventListener("abort", onAbort);
  }
  if (o.signal.aborted) throw o.signal.reason;
  if (!end) throw new Error(`the ${o.runner.kind} shard runner stopped without a result`);
  const failed = end.failed.filter((i) => ours.has(i));
  if (failed.length > 0) {
    const first = failed[0]!;
    const recorded = await readShardFailure(o.jobDir, first);
    if (recorded) throw recorded;
    const why = reasons.get(first) ?? end.reason ?? "it did not finish";
    throw new Error(`shard ${first} failed${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ""}: ${why}`);
  }
  for (const index of o.indices) {
    if (results.has(index)) continue;
    const result = await finishedShard(o.jobDir, index);
    if (!result) throw new Error(`shard ${index} finished without its done.json`);
    results.set(index, result);
    o.listener.succeeded(index, result, true);
  }
  return results;
}

/**
 * A Job of this export that already failed (an earlier attempt's, before a Resume, or one that
 * failed while the exporter was down) cannot run again: it is deleted (Background) and, once
 * gone, replaced by a new one whose pods return at once for the shards already done.
 */
async function replaceFailedJob(client: IndexedJobClient, jobId: string, listener: ShardRunListener) {
  const name = indexedJobName(jobId);
  const existing = await client.get(name);
  if (!existing || indexedJobStatus(existing).finished !== "Failed") return;
  listener.log("info", `Job ${client.namespace}/${name} had failed; replacing it (finished shards are kept)`);
  await client.delete(name, "Background");
  for (let waited = 0; await client.get(name); waited += 200) {
    if (waited > 60_000) throw new UnavailableError(`Job ${client.namespace}/${name} is still being deleted; retry`);
    await sleep(200);
  }
}

/** Annotations processed (exported or skipped) by the shard's finished chunks. */
async function processedOnDisk(jobDir: string, index: number): Promise<number> {
  const dir = shardDir(jobDir, index);
  if (!existsSync(dir)) return 0;
  let done = 0;
  for (const file of await readdir(dir)) {
    if (!file.endsWith(".stats.json")) continue;
    try {
      const stats = JSON.parse(await readFile(join(dir, file), "utf8")) as ChunkStats;
      done += stats.exported + stats.skipped.length;
    } catch {
      // being written by the shard (atomic rename makes this rare): next poll
    }
  }
  return done;
}
