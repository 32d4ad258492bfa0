import { FailedPreconditionError } from "@exits/platform";
import type { V1Job } from "@kubernetes/client-node";
import type { IndexedJobClient } from "./indexed-job-client.js";
import { exportJobSelector, type IndexedJobSpec, indexedJobName } from "./indexed-job-spec.js";
import { indexedJobStatus } from "./indexed-job-status.js";
import { shardPodFailurePolicy } from "./shard-exit-codes.js";
import type { ShardEvent, ShardRunner, ShardRunOptions } from "./shard-runner.js";

/** Everything of the Job but what one run decides. */
export type ShardJobTemplate = Omit<IndexedJobSpec, "exportJobId" | "shards" | "parallelism" | "backoffLimitPerIndex">;

export interface KubernetesShardRunnerOptions {
  /** How a cancelled run deletes its Job. Default Background. */
  readonly cancelPropagation?: "Background" | "Foreground";
}

/**
 * Runs the shards as one Indexed Job (completions = shards, parallelism, backoffLimitPerIndex =
 * retries) and follows it through the Job's status: completedIndexes / failedIndexes become
 * per-shard events. A run after an exporter restart adopts the Job it had created (409) and
 * reports what already finished.
 */
export class KubernetesShardRunner implements ShardRunner {
  readonly kind = "kubernetes" as const;

  constructor(
    private readonly client: IndexedJobClient,
    private readonly template: ShardJobTemplate,
    private readonly options: KubernetesShardRunnerOptions = {},
  ) {}

  async *run(o: ShardRunOptions): AsyncGenerator<ShardEvent> {
    const { job } = await this.client.createOrAdopt({
      // Unless the template says otherwise: a permanent exit fails the index at once.
      podFailurePolicy: shardPodFailurePolicy(),
      ...this.template,
      exportJobId: o.exportJobId,
      shards: o.shards,
      parallelism: o.parallelism,
      backoffLimitPerIndex: o.retriesPerShard,
    });
    const name = indexedJobName(o.exportJobId);
    const tracker = new StatusTracker(o.shards, o.retriesPerShard);
    let end = tracker.update(job);
    yield* end.events;
    if (end.finished) return;

    const controller = new AbortController();
    const signal = AbortSignal.any([
      controller.signal,
      ...(o.signal ? [o.signal] : []),
      ...(o.detach ? [o.detach] : []),
    ]);
    try {
      for await (const event of this.client.watch({
        labelSelector: exportJobSelector(o.exportJobId),
        resourceVersion: job.metadata?.resourceVersion,
        signal,
      })) {
        if (event.type === "BOOKMARK") continue;
        const current = event.type === "SYNC" ? event.jobs.find((j) => j.metadata?.name === name) : event.job;
        if (event.type === "DELETED" || current === undefined) {
          if (o.signal?.aborted || o.detach?.aborted) break;
          throw new FailedPreconditionError(`Job ${this.client.namespace}/${name} was deleted while its shards ran`);
        }
        if (current.metadata?.name !== name) continue;
        end = tracker.update(current);
        yield* end.events;
        if (end.finished) return;
      }
    } finally {
      controller.abort();
    }
    if (o.signal?.aborted) {
      await this.client.delete(name, this.options.cancelPropagation ?? "Background");
      yield tracker.finished(true);
    }
    // Detached: the Job goes on without us; a later run adopts it.
  }
}

/** Turns successive Job snapshots into events, each shard reported once. */
class StatusTracker {
  private readonly reported = new Map<number, "succeeded" | "failed">();
  private failedPods = 0;

  constructor(
    private readonly shards: number,
    private readonly retries: number,
  ) {}

  update(job: V1Job): { events: ShardEvent[]; finished: boolean } {
    const status = indexedJobStatus(job);
    const events: ShardEvent[] = [];
    for (const index of status.succeeded) {
      if (this.reported.has(index)) continue;
      this.reported.set(index, "succeeded");
      events.push({ type: "succeeded", index });
    }
    for (const index of status.failed) {
      if (this.reported.has(index)) continue;
      this.reported.set(index, "failed");
      events.push({ type: "failed", index, reason: `its pod failed ${this.retries + 1} times (backoffLimitPerIndex)` });
    }
    // Pod failures that did not (yet) exhaust an index are retries.
    const exhausted = status.failed.length * (this.retries + 1);
    const retried = Math.max(0, status.failedPods - exhausted);
    if (retried > this.failedPods) {
      events.push({
        type: "retrying",
        reason: `${retried - this.failedPods} shard pod(s) failed; Kubernetes retries them`,
      });
      this.failedPods = retried;
    }
    if (status.finished) {
      events.push(this.finished(false, status.finished === "Failed" ? status.failureReason : undefined));
      return { events, finished: true };
    }
    return { events, finished: false };
  }

  finished(cancelled: boolean, reason?: string): ShardEvent {
    const succeeded: number[] = [];
    const failed: number[] = [];
    for (let i = 0; i < this.shards; i++) (this.reported.get(i) === "succeeded" ? succeeded : failed).push(i);
    return { type: "finished", succeeded, failed, cancelled, ...(reason ? { reason } : {}) };
  }
}
