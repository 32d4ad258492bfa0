import {
  type ExportJobEvent,
  type ExportReport,
  type ShardStatus,
  type SkippedAnnotation,
  SkipReason,
  type ExportJob as WireExportJob,
} from "@exits/contracts";
import type { JobEvent, JobStatusRecord } from "../jobs/job-types.js";
import { jobEventEnvelopeToWire, jobStatusToWire } from "../jobs/job-wire.js";
import type { DataPaths } from "../paths/data-paths.js";
import type { ExportJob } from "./export-job.js";
import {
  type ExportCounts,
  type ExportEvent,
  type ShardRecord,
  SKIP_REASONS,
  type SkipReasonName,
  type SkipRecord,
} from "./export-types.js";

export function skipReasonToWire(reason: SkipReasonName): SkipReason {
  return SkipReason[`SKIP_REASON_${reason}`];
}

/** A wire reason as a name; undefined for UNSPECIFIED ("any"). */
export function skipReasonFromWire(reason: SkipReason): SkipReasonName | undefined {
  return SKIP_REASONS.find((r) => SkipReason[`SKIP_REASON_${r}`] === reason);
}

export function skippedToWire(r: SkipRecord): SkippedAnnotation {
  return {
    annotationId: r.annotationId,
    imageId: r.imageId,
    reason: skipReasonToWire(r.reason),
    message: r.message,
    shardIndex: r.shardIndex,
  };
}

export function reportToWire(c: ExportCounts, paths: DataPaths): ExportReport {
  return {
    imagesTotal: c.imagesTotal,
    annotationsTotal: c.annotationsTotal,
    annotationsExported: c.annotationsExported,
    annotationsSkipped: c.annotationsSkipped,
    skippedByReason: SKIP_REASONS.filter((r) => (c.skippedByReason[r] ?? 0) > 0).map((r) => ({
      reason: skipReasonToWire(r),
      count: c.skippedByReason[r]!,
    })),
    emptyMasks: c.emptyMasks,
    meanScore: c.meanScore,
    reportPath: c.reportPath ? paths.toClient(c.reportPath) : "",
  };
}

export function shardToWire(s: ShardRecord, paths: DataPaths, now: JobStatusRecord): ShardStatus {
  const status: JobStatusRecord = {
    ...now,
    state: s.state,
    done: s.done,
    total: s.annotations,
    progress: s.annotations ? s.done / s.annotations : s.state === "SUCCEEDED" ? 1 : 0,
    message: s.error ? s.error.message : s.state.toLowerCase(),
    error: s.state === "FAILED" ? s.error : undefined,
    startedAtMs: s.startedAtMs,
    finishedAtMs: s.finishedAtMs,
    attempt: s.tries,
    etaMs: 0,
  };
  return {
    shardIndex: s.index,
    status: jobStatusToWire(status),
    annotations: s.annotations,
    outputPath: paths.toClient(s.outputDir),
    worker: "",
  };
}

export function exportJobToWire(job: ExportJob, paths: DataPaths): WireExportJob {
  return {
    jobId: job.id,
    spec: job.spec,
    resolvedSpec: job.resolvedSpec,
    status: jobStatusToWire(job.status),
    shards: job.extras.shards.map((s) => shardToWire(s, paths, job.status)),
    report: reportToWire(job.extras.report, paths),
    kubernetesJob: job.extras.kubernetesJob ?? "",
    manifestPath: job.extras.manifestPath ? paths.toClient(job.extras.manifestPath) : "",
  };
}

export function exportEventToWire(event: JobEvent<ExportEvent>, paths: DataPaths): ExportJobEvent {
  const { custom, ...envelope } = jobEventEnvelopeToWire(event);
  if (!custom) return envelope;
  switch (custom.kind) {
    case "shard":
      return { ...envelope, shard: shardToWire(custom.shard, paths, event.status) };
    case "skipped":
      return { ...envelope, skipped: skippedToWire(custom.skipped) };
    case "report":
      return { ...envelope, report: reportToWire(custom.report, paths) };
  }
}
