import { type JobLog, JobState, type JobStateChanged, type JobStatus, type ListJobsRequest } from "@exits/contracts";
import { InvalidArgumentError } from "@exits/platform";
import type { JobEvent, JobStateName, JobStatusRecord, ListJobsQuery } from "./job-types.js";

// Conversions between the framework's records and the exits.v1 job messages, shared by the
// trainer and exporter controllers.

const TO_WIRE: Record<JobStateName | "UNSPECIFIED", JobState> = {
  UNSPECIFIED: JobState.JOB_STATE_UNSPECIFIED,
  QUEUED: JobState.JOB_STATE_QUEUED,
  RUNNING: JobState.JOB_STATE_RUNNING,
  SUCCEEDED: JobState.JOB_STATE_SUCCEEDED,
  FAILED: JobState.JOB_STATE_FAILED,
  CANCELLING: JobState.JOB_STATE_CANCELLING,
  CANCELLED: JobState.JOB_STATE_CANCELLED,
  INTERRUPTED: JobState.JOB_STATE_INTERRUPTED,
};

export function jobStateToWire(state: JobStateName | "UNSPECIFIED"): JobState {
  return TO_WIRE[state];
}

/** A wire state as a name; undefined for JOB_STATE_UNSPECIFIED; INVALID_ARGUMENT `field` for unknown numbers. */
export function jobStateFromWire(state: JobState, field: string): JobStateName | undefined {
  if (state === JobState.JOB_STATE_UNSPECIFIED) return undefined;
  const name = (Object.keys(TO_WIRE) as (JobStateName | "UNSPECIFIED")[]).find((k) => TO_WIRE[k] === state);
  if (name === undefined || name === "UNSPECIFIED") throw new InvalidArgumentError(field, `unknown job state ${state}`);
  return name;
}

export function jobStatusToWire(status: JobStatusRecord): JobStatus {
  return {
    state: jobStateToWire(status.state),
    progress: status.progress,
    done: status.done,
    total: status.total,
    message: status.message,
    error: status.error ? { ...status.error } : undefined,
    createdAtMs: status.createdAtMs,
    startedAtMs: status.startedAtMs,
    updatedAtMs: status.updatedAtMs,
    finishedAtMs: status.finishedAtMs,
    attempt: status.attempt,
    etaMs: status.etaMs,
  };
}

/** A ListJobsRequest as a query; JOB_STATE_UNSPECIFIED entries mean "any" and are dropped. */
export function listQueryFromWire(request: ListJobsRequest): ListJobsQuery {
  const states = request.states
    .map((s, i) => jobStateFromWire(s, `states[${i}]`))
    .filter((s): s is JobStateName => s !== undefined);
  return {
    pageSize: request.pageSize,
    pageToken: request.pageToken,
    states,
    labelSelector: request.labelSelector,
  };
}

/**
 * The parts of a TrainingJobEvent / ExportJobEvent common to every kind: sequence, time, status
 * and the state_changed or log body. A custom event answers `custom` for the owner to convert.
 */
export function jobEventEnvelopeToWire<Event>(event: JobEvent<Event>): {
  sequence: number;
  timeMs: number;
  status: JobStatus;
  stateChanged?: JobStateChanged;
  log?: JobLog;
  custom?: Event;
} {
  const base = { sequence: event.sequence, timeMs: event.timeMs, status: jobStatusToWire(event.status) };
  switch (event.type) {
    case "state_changed":
      return {
        ...base,
        stateChanged: {
          previous: jobStateToWire(event.stateChanged.previous),
          current: jobStateToWire(event.stateChanged.current),
          reason: event.stateChanged.reason,
        },
      };
    case "log":
      return { ...base, log: { level: event.log.level, message: event.log.message } };
    case "custom":
      return { ...base, custom: event.custom };
  }
}
