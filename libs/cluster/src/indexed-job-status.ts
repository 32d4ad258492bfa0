import type { V1Job } from "@kubernetes/client-node";
import { parseIndexRanges } from "./index-ranges.js";

/** Where one shard (pod index) of an Indexed Job stands. */
export type IndexState = "pending" | "succeeded" | "failed";

/** An Indexed Job's status, per index. */
export interface IndexedJobStatus {
  readonly name: string;
  readonly resourceVersion?: string;
  readonly completions: number;
  readonly succeeded: readonly number[];
  /** Indexes that used up backoffLimitPerIndex. */
  readonly failed: readonly number[];
  /** Pods running now. */
  readonly active: number;
  /** Pod failures so far, retried ones included (Kubernetes does not say which index each was). */
  readonly failedPods: number;
  /** "Complete" or "Failed" once the Job is finished (its condition of that type is True). */
  readonly finished?: "Complete" | "Failed";
  /** The Failed condition's reason, e.g. FailedIndexes, BackoffLimitExceeded, DeadlineExceeded. */
  readonly failureReason?: string;
  readonly states: readonly IndexState[];
}

export function indexedJobStatus(job: V1Job): IndexedJobStatus {
  const completions = job.spec?.completions ?? 1;
  const status = job.status ?? {};
  const inRange = (i: number) => i < completions;
  const succeeded = parseIndexRanges(status.completedIndexes).filter(inRange);
  const failed = parseIndexRanges(status.failedIndexes ?? undefined).filter(inRange);
  const condition = (type: string) => status.conditions?.find((c) => c.type === type && c.status === "True");
  const failedCondition = condition("Failed");
  const finished = condition("Complete") ? "Complete" : failedCondition ? "Failed" : undefined;
  const states: IndexState[] = Array.from({ length: completions }, () => "pending");
  for (const i of succeeded) states[i] = "succeeded";
  for (const i of failed) states[i] = "failed";
  return {
    name: job.metadata?.name ?? "",
    resourceVersion: job.metadata?.resourceVersion,
    completions,
    succeeded,
    failed,
    active: status.active ?? 0,
    failedPods: status.failed ?? 0,
    finished,
    failureReason: failedCondition?.reason,
    states,
  };
}
