import assert from "node:assert/strict";
import { test } from "node:test";
import { JobState } from "@exits/contracts";
import { InvalidArgumentError } from "@exits/platform";
import type { JobStatusRecord } from "./job-types.js";
import { jobEventEnvelopeToWire, jobStateFromWire, jobStatusToWire, listQueryFromWire } from "./job-wire.js";

const status: JobStatusRecord = {
  state: "FAILED",
  progress: 0.5,
  done: 1,
  total: 2,
  message: "m",
  error: { code: "NOT_FOUND", message: "x not found", field: "spec.dataset.annotations" },
  createdAtMs: 1,
  startedAtMs: 2,
  updatedAtMs: 3,
  finishedAtMs: 4,
  attempt: 2,
  etaMs: 0,
};

test("job states and statuses map to the wire and back; unknown states are INVALID_ARGUMENT naming the entry", () => {
  const wire = jobStatusToWire(status);
  assert.equal(wire.state, JobState.JOB_STATE_FAILED);
  assert.deepEqual(wire.error, status.error);
  assert.equal(jobStatusToWire({ ...status, state: "QUEUED", error: undefined }).error, undefined);
  assert.equal(jobStateFromWire(JobState.JOB_STATE_INTERRUPTED, "s"), "INTERRUPTED");
  assert.equal(jobStateFromWire(JobState.JOB_STATE_UNSPECIFIED, "s"), undefined);
  const query = listQueryFromWire({
    pageSize: 3,
    pageToken: "t",
    states: [JobState.JOB_STATE_UNSPECIFIED, JobState.JOB_STATE_RUNNING],
    labelSelector: { a: "b" },
  });
  assert.deepEqual(query, { pageSize: 3, pageToken: "t", states: ["RUNNING"], labelSelector: { a: "b" } });
  assert.throws(
    () =>
      listQueryFromWire({
        pageSize: 0,
        pageToken: "",
        states: [JobState.JOB_STATE_QUEUED, 42 as JobState],
        labelSelector: {},
      }),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "states[1]",
  );
});

test("event envelopes carry sequence, time, status and the common bodies; custom bodies are left to the owner", () => {
  const changed = jobEventEnvelopeToWire({
    sequence: 1,
    timeMs: 5,
    status,
    type: "state_changed",
    stateChanged: { previous: "UNSPECIFIED", current: "QUEUED", reason: "queued" },
  });
  assert.deepEqual(changed.stateChanged, {
    previous: JobState.JOB_STATE_UNSPECIFIED,
    current: JobState.JOB_STATE_QUEUED,
    reason: "queued",
  });
  assert.equal(changed.sequence, 1);
  assert.equal(changed.status.state, JobState.JOB_STATE_FAILED);
  const log = jobEventEnvelopeToWire({
    sequence: 2,
    timeMs: 6,
    status,
    type: "log",
    log: { level: "warn", message: "w" },
  });
  assert.deepEqual(log.log, { level: "warn", message: "w" });
  const custom = jobEventEnvelopeToWire({ sequence: 3, timeMs: 7, status, type: "custom", custom: { step: 9 } });
  assert.deepEqual(custom.custom, { step: 9 });
  assert.equal(custom.log, undefined);
});
