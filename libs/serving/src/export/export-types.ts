import type { JobErrorRecord, JobStateName } from "../jobs/job-types.js";

/** SkipReason (exporter.proto) without its prefix, as persisted in job files and the report. */
export const SKIP_REASONS = [
  "MISSING_EXTREME_POINTS",
  "POINT_OUTSIDE_IMAGE",
  "INCONSISTENT_EXTREME_POINTS",
  "DEGENERATE_BOX",
  "IMAGE_NOT_FOUND",
  "IMAGE_INVALID",
  "UNKNOWN_IMAGE",
] as const;
export type SkipReasonName = (typeof SKIP_REASONS)[number];

/** One annotation left out of the export (the proto's SkippedAnnotation, plus what ListSkipped pages by). */
export interface SkipRecord {
  /** 0 when the annotation has no numeric id. */
  readonly annotationId: number;
  /** 0 when unknown. */
  readonly imageId: number;
  readonly reason: SkipReasonName;
  /** The field at fault, e.g. "extreme_points", "file_name". */
  readonly field: string;
  readonly message: string;
  readonly shardIndex: number;
  /** Unique within the job; orders records with the same annotation id (duplicated ids exist). */
  readonly key: number;
}

/** Counts over the job (the proto's ExportReport, skip counts by reason name). */
export interface ExportCounts {
  readonly imagesTotal: number;
  readonly annotationsTotal: number;
  readonly annotationsExported: number;
  readonly annotationsSkipped: number;
  readonly skippedByReason: Partial<Record<SkipReasonName, number>>;
  /** Crowd regions: left out of the export without a reason (they carry no extreme points). */
  readonly crowd: number;
  readonly emptyMasks: number;
  readonly meanScore: number;
  /** Absolute path of the report JSON; "" until written. */
  readonly reportPath: string;
}

/** One shard's state and progress (the proto's ShardStatus). */
export interface ShardRecord {
  readonly index: number;
  readonly state: JobStateName;
  /** Annotations of the shard processed (exported or skipped). */
  readonly done: number;
  /** Annotations the plan gave the shard. */
  readonly annotations: number;
  /** Absolute directory of the shard's partial outputs. */
  readonly outputDir: string;
  /** Runs of this shard in the current attempt (1 + retries). */
  readonly tries: number;
  readonly error?: JobErrorRecord;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
}

/** Kind-specific part of an export job's snapshot. */
export interface ExportExtras {
  readonly shards: readonly ShardRecord[];
  readonly report: ExportCounts;
  /** Absolute path of the output manifest once written; "" before. */
  readonly manifestPath: string;
  /** The generator version the job runs with (pinned at start, so a resume uses the same one). */
  readonly generator?: { readonly clientPath: string; readonly version: string; readonly sha256: string };
  /** Name of the Kubernetes Indexed Job running the shards (sharding.kubernetes_indexed_job); unset otherwise. */
  readonly kubernetesJob?: string;
}

/** Kind-specific events of an export job's Watch stream. */
export type ExportEvent =
  | { readonly kind: "shard"; readonly shard: ShardRecord }
  | { readonly kind: "skipped"; readonly skipped: SkipRecord }
  | { readonly kind: "report"; readonly report: ExportCounts };

export const EMPTY_COUNTS: ExportCounts = {
  imagesTotal: 0,
  annotationsTotal: 0,
  annotationsExported: 0,
  annotationsSkipped: 0,
  skippedByReason: {},
  crowd: 0,
  emptyMasks: 0,
  meanScore: 0,
  reportPath: "",
};
