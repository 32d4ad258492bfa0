/**
 * How the exporter runs the shards of one export, without knowing where: as pods of a Kubernetes
 * Indexed Job ({@link KubernetesShardRunner}) or as local child processes
 * ({@link ChildProcessShardRunner}). Both run `exits export-shard --job <id> --index <k>` once
 * per shard and report through the same events; merging the shard outputs is the exporter's.
 */
export interface ShardRunner {
  readonly kind: "kubernetes" | "local";
  /** Runs the shards; the iterable ends after the one `finished` event. */
  run(options: ShardRunOptions): AsyncIterable<ShardEvent>;
}

export interface ShardRunOptions {
  /** The export job whose recorded spec the shard command loads from the data directory. */
  readonly exportJobId: string;
  /** Shard indexes are 0 .. shards-1. */
  readonly shards: number;
  /** At most this many shards run at once. */
  readonly parallelism: number;
  /** Retries of one shard after its first failure before it counts as failed. */
  readonly retriesPerShard: number;
  /**
   * Shards already finished (a resumed export): the local runner does not start them again; in an
   * Indexed Job every index gets a pod, and the shard command returns at once for a shard whose
   * output is complete.
   */
  readonly finished?: readonly number[];
  /** Cancels: running shards are stopped (pods deleted, processes sent SIGTERM). */
  readonly signal?: AbortSignal;
  /**
   * Stops following without cancelling (the exporter shutting down): the Kubernetes runner closes
   * its watch and leaves the Job running for the restarted exporter to adopt; the iterable then
   * ends without a `finished` event. The local runner ignores it (its children die with the
   * exporter anyway: stop them with `signal`).
   */
  readonly detach?: AbortSignal;
}

export type ShardEvent =
  /** An attempt began (local runner only: pod starts are not in the Job's status). */
  | { readonly type: "started"; readonly index: number; readonly attempt: number }
  /**
   * An attempt failed and will be retried. Kubernetes reports failed pods as a count, not per
   * index, so `index` and `attempt` are unset there.
   */
  | { readonly type: "retrying"; readonly index?: number; readonly attempt?: number; readonly reason: string }
  | { readonly type: "succeeded"; readonly index: number }
  /** The shard used up its retries. */
  | { readonly type: "failed"; readonly index: number; readonly reason: string }
  /** Last event. `failed` lists every shard that did not succeed (when cancelled: those not finished). */
  | {
      readonly type: "finished";
      readonly succeeded: readonly number[];
      readonly failed: readonly number[];
      readonly cancelled: boolean;
      /** Why the run as a whole failed, when it says (the Job's Failed condition reason). */
      readonly reason?: string;
    };
