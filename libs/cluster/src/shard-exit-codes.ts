import type { V1PodFailurePolicy } from "@kubernetes/client-node";

/**
 * Exit codes of `exits export-shard`, shared by the command and the runners: a shard that
 * cannot succeed however often it runs (bad arguments, an unknown job, invalid input under
 * INVALID_POLICY_REJECT) exits {@link SHARD_EXIT_PERMANENT} so its index is failed at once
 * instead of burning retries; anything else (a crash, OOM, a lost node) is retried.
 */
export const SHARD_EXIT_OK = 0;
export const SHARD_EXIT_RETRYABLE = 1;
export const SHARD_EXIT_PERMANENT = 2;
/** 128 + SIGTERM: stopped by a cancel or a pod eviction (Kubernetes retries an eviction). */
export const SHARD_EXIT_TERMINATED = 143;

/**
 * The Indexed Job's podFailurePolicy that goes with those codes: FailIndex on a permanent exit,
 * and pod disruptions (preemption, node drain) not counted against the index's retries.
 */
export function shardPodFailurePolicy(containerName = "export-shard"): V1PodFailurePolicy {
  return {
    rules: [
      {
        action: "FailIndex",
        onExitCodes: { containerName, operator: "In", values: [SHARD_EXIT_PERMANENT] },
      },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    ],
  };
}
