import type { Logger, LogLevel } from "@exits/base";
import type { Registry } from "prom-client";

/**
 * The persisted job framework's public types (trainer and exporter build on them). A service
 * owns one {@link JobManager} per job kind directory; the manager persists every job under
 * `<dir>/<jobId>/job.json` (atomic rewrites) and `<dir>/<jobId>/events.jsonl` (append-only), so
 * a service killed with SIGKILL lists its jobs after a restart and resumes the running ones.
 *
 * Everything the owner hands in as `Spec`, `Resolved`, `Extras` or `Event` must survive a JSON
 * round trip (ts-proto `toJSON` output is the intended form): it is written to disk as is.
 */

/** Job states, as the proto's `JobState` without the prefix (see `job-wire.ts` for the mapping). */
export const JOB_STATES = [
  "QUEUED",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "CANCELLING",
  "CANCELLED",
  "INTERRUPTED",
] as const;
export type JobStateName = (typeof JOB_STATES)[number];

/** States a job never leaves by itself (Watch ends after the event that enters one). */
export const TERMINAL_JOB_STATES: ReadonlySet<JobStateName> = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** States ResumeJob accepts. */
export const RESUMABLE_JOB_STATES: ReadonlySet<JobStateName> = new Set(["INTERRUPTED", "FAILED", "CANCELLED"]);

/** Why a job failed (the proto's JobError). `code` is a gRPC status name, e.g. "INVALID_ARGUMENT". */
export interface JobErrorRecord {
  readonly code: string;
  readonly message: string;
  /** The offending field or input; "" when none is to blame. */
  readonly field: string;
}

/** State and progress common to every kind (the proto's JobStatus, times in ms since the epoch). */
export interface JobStatusRecord {
  readonly state: JobStateName;
  /** done / total in [0, 1]; 1 once SUCCEEDED. */
  readonly progress: number;
  readonly done: number;
  /** 0 while unknown. */
  readonly total: number;
  readonly message: string;
  /** Set while FAILED. */
  readonly error?: JobErrorRecord;
  readonly createdAtMs: number;
  /** Last time it entered RUNNING; 0 = never. */
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  /** 0 = not finished. */
  readonly finishedAtMs: number;
  /** 1 at creation, +1 per resume (manual or automatic after a restart). */
  readonly attempt: number;
  /** 0 = unknown. */
  readonly etaMs: number;
}

/** A path a job writes (output directory or file), so two live jobs never write the same one. */
export interface JobClaim {
  /** The request field the path came from, e.g. "spec.output_dir"; named in the conflict error. */
  readonly field: string;
  /** Absolute path. Claims conflict when equal or when one lies inside the other. */
  readonly path: string;
  /** The path as the client knows it (relative to the data directory), for messages. */
  readonly clientPath: string;
}

/** Read-only copy of a job as persisted; what every manager call answers. */
export interface JobSnapshot<Spec, Resolved, Extras> {
  /** URL-safe, time-sortable ([0-9a-z-]); newer jobs sort after older ones. */
  readonly id: string;
  /** The manager's kind name, e.g. "trainer", "exporter". */
  readonly kind: string;
  /** Idempotency key of the Start call; "" = none. */
  readonly requestId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The spec as submitted. */
  readonly spec: Spec;
  /** The spec with every default filled in (what the run function works from). */
  readonly resolvedSpec: Resolved;
  readonly status: JobStatusRecord;
  /** Kind-specific state (metrics, artifacts, shards, report...), merged by `update` patches. */
  readonly extras: Extras;
  readonly claims: readonly JobClaim[];
  /** What the last ResumeJob asked for (e.g. a checkpoint), undefined when none. */
  readonly resumeArgument?: unknown;
  /** Sequence number of the job's latest event (0 = none yet). */
  readonly lastSequence: number;
}

/** The proto's JobStateChanged. */
export interface JobStateChange {
  /** "UNSPECIFIED" on the first event (the job was created). */
  readonly previous: JobStateName | "UNSPECIFIED";
  readonly current: JobStateName;
  readonly reason: string;
}

/** The proto's JobLog. */
export interface JobLogLine {
  readonly level: LogLevel;
  readonly message: string;
}

/** What happened, one of three: a state change, a log line, or a kind-specific event. */
export type JobEventBody<Event> =
  | { readonly type: "state_changed"; readonly stateChanged: JobStateChange }
  | { readonly type: "log"; readonly log: JobLogLine }
  | { readonly type: "custom"; readonly custom: Event };

/** One entry of a job's event log (`events.jsonl`) and of its Watch stream. */
export type JobEvent<Event> = JobEventBody<Event> & {
  /** Per job, from 1, increasing by 1. */
  readonly sequence: number;
  readonly timeMs: number;
  /** The job's status right after this event. */
  readonly status: JobStatusRecord;
};

/** A progress report from a run function. */
export interface JobProgress {
  readonly done: number;
  /** 0 = unknown. */
  readonly total: number;
  /** Replaces the status message when given. */
  readonly message?: string;
  /** Omitted: estimated from the rate since this attempt started (0 when unknown). */
  readonly etaMs?: number;
}

/** Why a run's signal fired: a user's Cancel, or the service stopping (`close`). */
export type JobAbortReason = "cancel" | "shutdown";

/** What a run function gets besides the job itself. */
export interface JobContext<Extras, Event> {
  /** Fires on Cancel and on shutdown; stop at the next safe point (keep a checkpoint). */
  readonly signal: AbortSignal;
  /** Why `signal` fired; undefined while it has not. */
  abortReason(): JobAbortReason | undefined;
  /** `<dir>/<jobId>`, the job's own directory: put checkpoints and scratch files here. */
  readonly jobDir: string;
  /** 1 on the first run, +1 per resume. */
  readonly attempt: number;
  /** True when an earlier attempt ran (resume from your checkpoints). */
  readonly resumed: boolean;
  /** What ResumeJob passed (e.g. a checkpoint path), undefined when none. */
  readonly resumeArgument: unknown;
  /** Updates done/total/message/eta (and optionally extras); job.json is rewritten at most every 500 ms. */
  report(progress: JobProgress, extras?: Partial<Extras>): void;
  /** Appends a kind-specific event (after applying the optional extras patch). */
  emit(event: Event, extras?: Partial<Extras>): void;
  /** Appends a log event and logs through the manager's logger. */
  log(level: LogLevel, message: string): void;
  /** Shallow-merges a patch into the job's extras (throttled persistence). */
  update(extras: Partial<Extras>): void;
}

/** What a successful run may add to the job. */
export interface JobResult<Extras> {
  /** Final extras patch (artifacts, final report). */
  readonly extras?: Partial<Extras>;
  /** Final status message (default "succeeded"). */
  readonly message?: string;
}

/**
 * Does the job's work. Resolving = SUCCEEDED; throwing a DomainError = FAILED with its gRPC status
 * name, message and `field`; any other error = FAILED, code "INTERNAL". If the signal fired (Cancel or
 * shutdown), the job becomes CANCELLED or INTERRUPTED however the function settles.
 */
export type JobRunFunction<Spec, Resolved, Extras, Event> = (
  job: JobSnapshot<Spec, Resolved, Extras>,
  ctx: JobContext<Extras, Event>,
) => Promise<JobResult<Extras> | undefined>;

/** Construction options of a {@link JobManager}. */
export interface JobManagerOptions<Spec, Resolved, Extras, Event> {
  /** Absolute directory of this kind's jobs, e.g. `<dataDir>/jobs/trainer`; created when missing. */
  readonly dir: string;
  /** Kind name, used in logs, metrics labels and messages ("trainer", "exporter"). */
  readonly kind: string;
  readonly run: JobRunFunction<Spec, Resolved, Extras, Event>;
  /** Jobs run at once; default 1. */
  readonly concurrency?: number;
  readonly logger: Logger;
  /** Wall clock in ms since the epoch; default Date.now. */
  readonly clock?: () => number;
  /** Register job metrics here (the service's ServiceMetrics.registry); see `job-metrics.ts`. */
  readonly registry?: Registry;
  /** Minimum ms between progress-driven rewrites of job.json; default 500. */
  readonly persistIntervalMs?: number;
  /** Re-queue jobs interrupted by a restart or shutdown on `recover()`; default true. */
  readonly autoResume?: boolean;
}

/** What `prepare` (run by `start` after the request_id check, before anything is written) returns. */
export interface PreparedJob<Resolved, Extras> {
  readonly resolvedSpec: Resolved;
  /** Initial extras. */
  readonly extras: Extras;
  /** Paths this job writes; a live job already claiming one (or a path inside/around it) is a conflict. */
  readonly claims?: readonly JobClaim[];
}

/** Options of `start`. */
export interface StartJobOptions<Resolved, Extras> {
  /** Idempotency key; the same non-empty key returns the first job (across restarts). */
  readonly requestId?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Validates the spec and resolves defaults, given the new job's id (e.g. for a default output
   * directory "models/<job id>"). Throw InvalidArgumentError etc.: nothing is written.
   */
  readonly prepare: (jobId: string) => Promise<PreparedJob<Resolved, Extras>> | PreparedJob<Resolved, Extras>;
}

/** Options of `resume`. */
export interface ResumeJobOptions<Extras> {
  /** Passed to the run function as `ctx.resumeArgument` and persisted (e.g. a checkpoint path). */
  readonly argument?: unknown;
  /** Extras patch applied when re-queuing (e.g. reset per-shard states). */
  readonly extras?: Partial<Extras>;
  /** State-change reason; default "resumed". */
  readonly reason?: string;
}

/** A ListJobs query (see `listQueryFromWire` for the proto request). */
export interface ListJobsQuery {
  /** 0 = 50; clamped to 500. */
  readonly pageSize?: number;
  /** From a previous page's nextPageToken; "" = first page. A bad one is INVALID_ARGUMENT "page_token". */
  readonly pageToken?: string;
  /** Empty = all states. */
  readonly states?: readonly JobStateName[];
  /** Jobs whose labels contain all these pairs. */
  readonly labelSelector?: Readonly<Record<string, string>>;
}

/** One page of jobs, newest first. */
export interface JobPage<Spec, Resolved, Extras> {
  readonly jobs: readonly JobSnapshot<Spec, Resolved, Extras>[];
  /** "" = no more. */
  readonly nextPageToken: string;
}

/** Notified after every change of any job (state, progress, extras, events). */
export type JobChangeListener<Spec, Resolved, Extras> = (job: JobSnapshot<Spec, Resolved, Extras>) => void;
