import { rm } from "node:fs/promises";
import { join, sep } from "node:path";
import type { Logger, LogLevel } from "@exits/base";
import { DomainError, FailedPreconditionError, NotFoundError, UnavailableError } from "@exits/platform";
import { EventQueue } from "./job-event-queue.js";
import { jobErrorOf } from "./job-failure.js";
import { decodePageToken, encodePageToken, JobIdGenerator } from "./job-id.js";
import { JobMetrics, type JobRunOutcome } from "./job-metrics.js";
import { appendEvents, loadJobs, readEvents, type StoredJob, writeJobFile } from "./job-store.js";
import {
  type JobAbortReason,
  type JobChangeListener,
  type JobClaim,
  type JobContext,
  type JobEvent,
  type JobEventBody,
  type JobManagerOptions,
  type JobPage,
  type JobProgress,
  type JobResult,
  type JobSnapshot,
  type JobStateName,
  type JobStatusRecord,
  type ListJobsQuery,
  RESUMABLE_JOB_STATES,
  type ResumeJobOptions,
  type StartJobOptions,
  TERMINAL_JOB_STATES,
} from "./job-types.js";

/** Reason recorded when a restart finds a job that was running. */
export const RESTART_REASON = "the service restarted while the job ran";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/** The manager's live state of one job; `job` is what goes to disk. */
interface Entry<Spec, Resolved, Extras, Event> {
  readonly job: StoredJob<Spec, Resolved, Extras>;
  readonly dir: string;
  controller?: AbortController;
  abortReason?: JobAbortReason;
  /** The Cancel reason, recorded as the CANCELLED state's reason. */
  cancelReason?: string;
  watchers: Set<EventQueue<JobEvent<Event>>>;
  /** Disk writes of this job, in order (events appended, then job.json rewritten). */
  io: Promise<void>;
  pendingLines: string[];
  recordDirty: boolean;
  timer?: NodeJS.Timeout;
  lastRecordWriteMs: number;
  /** Where this attempt's rate (for the ETA) is measured from. */
  etaBase?: { timeMs: number; done: number };
}

/**
 * Persisted long-running jobs of one kind (see `job-types.ts` for the model). All jobs are held
 * in memory and mirrored to `<dir>/<id>/`; state changes are on disk before the call that made
 * them returns, progress at most every `persistIntervalMs`. Call `recover()` once before use.
 */
export class JobManager<Spec, Resolved, Extras, Event = never> {
  readonly dir: string;
  readonly kind: string;
  private readonly entries = new Map<string, Entry<Spec, Resolved, Extras, Event>>();
  private readonly byRequestId = new Map<string, string>();
  private readonly queue: string[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly listeners = new Set<JobChangeListener<Spec, Resolved, Extras>>();
  private readonly ids: JobIdGenerator;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly persistIntervalMs: number;
  private readonly metrics: JobMetrics | undefined;
  private newestId = "";
  private phase: "new" | "recovering" | "open" | "closing" | "closed" = "new";
  private pumpScheduled = false;

  constructor(private readonly options: JobManagerOptions<Spec, Resolved, Extras, Event>) {
    this.dir = options.dir;
    this.kind = options.kind;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.persistIntervalMs = options.persistIntervalMs ?? 500;
    this.ids = new JobIdGenerator(this.clock);
    this.metrics = options.registry
      ? new JobMetrics(options.registry, {
          kind: this.kind,
          stateCounts: () => this.stateCounts(),
          runningProgress: () =>
            [...this.entries.values()]
              .filter((e) => e.job.status.state === "RUNNING" || e.job.status.state === "CANCELLING")
              .map((e) => e.job.status.progress),
        })
      : undefined;
  }

  /**
   * Loads the jobs on disk and restarts the work: jobs found RUNNING (their process died) become
   * INTERRUPTED, CANCELLING ones CANCELLED (the user asked them to stop, and they have); then
   * jobs interrupted by a restart or a shutdown are re-queued with attempt + 1 (unless
   * `autoResume` is false) and QUEUED ones queued again, oldest first.
   */
  async recover(): Promise<void> {
    if (this.phase !== "new") throw new Error(`${this.kind} jobs: recover() called twice`);
    this.phase = "recovering";
    const loaded = await loadJobs<Spec, Resolved, Extras>(this.dir, this.kind, this.logger);
    loaded.sort((a, b) => (a.job.id < b.job.id ? -1 : 1));
    for (const { job, lastSequence } of loaded) {
      job.lastSequence = lastSequence;
      this.entries.set(job.id, this.newEntry(job));
      if (job.requestId !== "") this.byRequestId.set(job.requestId, job.id);
      this.newestId = job.id;
    }
    for (const entry of this.entries.values()) {
      const state = entry.job.status.state;
      if (state === "RUNNING") {
        entry.job.autoResume = true;
        await this.transition(entry, "INTERRUPTED", RESTART_REASON);
      } else if (state === "CANCELLING") {
        await this.transition(entry, "CANCELLED", "the service restarted while the job was being cancelled", {
          finishedAtMs: this.now(),
        });
      }
    }
    for (const entry of this.entries.values()) {
      const job = entry.job;
      if (job.status.state === "INTERRUPTED" && job.autoResume && this.options.autoResume !== false) {
        job.autoResume = false;
        await this.transition(entry, "QUEUED", "resumed automatically after a restart", {
          attempt: job.status.attempt + 1,
        });
      }
      if (job.status.state === "QUEUED") this.queue.push(job.id);
    }
    this.phase = "open";
    this.logger.info("jobs recovered", { kind: this.kind, jobs: this.entries.size, queued: this.queue.length });
    this.schedulePump();
  }

  /**
   * Queues a new job and answers it QUEUED. With a non-empty `requestId` seen before (also before
   * a restart), answers that first job instead and runs nothing (not even `prepare`). `prepare`
   * validates and resolves; whatever it throws propagates and nothing is written. A claim that a
   * live job holds already is ALREADY_EXISTS naming the claim's field.
   */
  async start(spec: Spec, options: StartJobOptions<Resolved, Extras>): Promise<JobSnapshot<Spec, Resolved, Extras>> {
    this.assertOpen();
    const requestId = options.requestId ?? "";
    const earlier = this.byRequestId.get(requestId);
    if (requestId !== "" && earlier !== undefined) return this.get(earlier);
    const id = this.ids.next(this.newestId);
    const prepared = await options.prepare(id);
    this.assertOpen();
    // A concurrent call with the same key may have won while `prepare` ran.
    const winner = this.byRequestId.get(requestId);
    if (requestId !== "" && winner !== undefined) return this.get(winner);
    const claims = [...(prepared.claims ?? [])];
    this.assertUnclaimed(claims, id);
    const now = this.now();
    const job: StoredJob<Spec, Resolved, Extras> = {
      format: 1,
      id,
      kind: this.kind,
      requestId,
      labels: { ...(options.labels ?? {}) },
      spec: structuredClone(spec),
      resolvedSpec: structuredClone(prepared.resolvedSpec),
      status: {
        state: "QUEUED",
        progress: 0,
        done: 0,
        total: 0,
        message: "queued",
        createdAtMs: now,
        startedAtMs: 0,
        updatedAtMs: now,
        finishedAtMs: 0,
        attempt: 1,
        etaMs: 0,
      },
      extras: structuredClone(prepared.extras),
      claims,
      lastSequence: 0,
      autoResume: false,
    };
    const entry = this.newEntry(job);
    this.entries.set(id, entry);
    if (requestId !== "") this.byRequestId.set(requestId, id);
    if (id > this.newestId) this.newestId = id;
    this.appendEvent(entry, {
      type: "state_changed",
      stateChanged: { previous: "UNSPECIFIED", current: "QUEUED", reason: "queued" },
    });
    try {
      await this.persistNow(entry);
    } catch (e) {
      this.entries.delete(id);
      if (requestId !== "") this.byRequestId.delete(requestId);
      await rm(entry.dir, { recursive: true, force: true }).catch(() => {});
      throw e;
    }
    this.logger.info("job queued", { kind: this.kind, jobId: id, requestId });
    const snapshot = this.snapshot(entry);
    this.queue.push(id);
    this.notify(entry);
    this.schedulePump();
    return snapshot;
  }

  /** The job's current snapshot; NOT_FOUND naming the id. */
  get(id: string): JobSnapshot<Spec, Resolved, Extras> {
    return this.snapshot(this.entryOf(id));
  }

  /** Jobs newest first, filtered, paged (see {@link ListJobsQuery}). */
  list(query: ListJobsQuery = {}): JobPage<Spec, Resolved, Extras> {
    this.assertReadable();
    const size = Math.min(MAX_PAGE_SIZE, query.pageSize ? Math.max(1, Math.floor(query.pageSize)) : DEFAULT_PAGE_SIZE);
    const after = query.pageToken ? decodePageToken(query.pageToken) : undefined;
    const states = new Set(query.states ?? []);
    const selector = Object.entries(query.labelSelector ?? {});
    const ids = [...this.entries.keys()].sort().reverse();
    const jobs: JobSnapshot<Spec, Resolved, Extras>[] = [];
    let more = false;
    for (const id of ids) {
      if (after !== undefined && id >= after) continue;
      const job = (this.entries.get(id) as Entry<Spec, Resolved, Extras, Event>).job;
      if (states.size > 0 && !states.has(job.status.state)) continue;
      if (!selector.every(([k, v]) => job.labels[k] === v)) continue;
      if (jobs.length === size) {
        more = true;
        break;
      }
      jobs.push(this.get(id));
    }
    const last = jobs[jobs.length - 1];
    return { jobs, nextPageToken: more && last ? encodePageToken(last.id) : "" };
  }

  /**
   * Asks a job to stop. RUNNING → CANCELLING (the run's signal fires; CANCELLED once it returns);
   * QUEUED or INTERRUPTED → CANCELLED at once; CANCELLING or terminal: answered unchanged.
   */
  async cancel(id: string, reason = ""): Promise<JobSnapshot<Spec, Resolved, Extras>> {
    this.assertOpen();
    const entry = this.entryOf(id);
    const why = reason.trim() === "" ? "cancel requested" : `cancel requested: ${reason.trim()}`;
    const state = entry.job.status.state;
    if (state === "QUEUED" || state === "INTERRUPTED") {
      this.unqueue(id);
      await this.transition(entry, "CANCELLED", why, { finishedAtMs: this.now(), etaMs: 0 });
    } else if (state === "RUNNING") {
      entry.abortReason = "cancel";
      entry.cancelReason = why;
      const done = this.transition(entry, "CANCELLING", why);
      entry.controller?.abort(new DomainError("cancelled", why));
      await done;
    }
    return this.get(id);
  }

  /**
   * Re-queues an INTERRUPTED, FAILED or CANCELLED job with attempt + 1, keeping its recorded
   * spec; the run function sees `ctx.resumed`. Any other state is FAILED_PRECONDITION saying
   * which; a claim taken meanwhile by another live job is ALREADY_EXISTS.
   */
  async resume(id: string, options: ResumeJobOptions<Extras> = {}): Promise<JobSnapshot<Spec, Resolved, Extras>> {
    this.assertOpen();
    const entry = this.entryOf(id);
    const job = entry.job;
    const state = job.status.state;
    if (!RESUMABLE_JOB_STATES.has(state))
      throw new FailedPreconditionError(
        `job ${id} is ${state.toLowerCase()}; only interrupted, failed or cancelled jobs can be resumed`,
      );
    this.assertUnclaimed(job.claims, id);
    job.resumeArgument = options.argument === undefined ? undefined : structuredClone(options.argument);
    job.autoResume = false;
    if (options.extras) job.extras = { ...job.extras, ...structuredClone(options.extras) };
    await this.transition(entry, "QUEUED", options.reason ?? "resumed", {
      attempt: job.status.attempt + 1,
      error: undefined,
      finishedAtMs: 0,
      etaMs: 0,
    });
    this.queue.push(id);
    this.schedulePump();
    return this.get(id);
  }

  /**
   * The job's events: retained ones with sequence > `afterSequence`, then live ones; ends after
   * the event that makes the job terminal (at once after the replay if it is terminal already),
   * when `signal` fires, or when the manager closes. NOT_FOUND is thrown here, not on iteration.
   */
  watch(id: string, afterSequence = 0, signal?: AbortSignal): AsyncIterable<JobEvent<Event>> {
    const entry = this.entryOf(id);
    return { [Symbol.asyncIterator]: () => this.follow(entry, afterSequence, signal) };
  }

  /** The live job (not terminal) claiming `path` or a path inside or around it, if any. */
  claimHolder(path: string, exceptId = ""): { job: JobSnapshot<Spec, Resolved, Extras>; claim: JobClaim } | undefined {
    for (const entry of this.entries.values()) {
      if (entry.job.id === exceptId || TERMINAL_JOB_STATES.has(entry.job.status.state)) continue;
      const claim = entry.job.claims.find((c) => overlaps(c.path, path));
      if (claim) return { job: this.snapshot(entry), claim };
    }
    return undefined;
  }

  /** Calls `listener` after every change of any job; returns the unsubscribe function. */
  onChange(listener: JobChangeListener<Spec, Resolved, Extras>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Jobs per state (every state present, 0 when none). */
  stateCounts(): Map<JobStateName, number> {
    const counts = new Map<JobStateName, number>();
    for (const entry of this.entries.values())
      counts.set(entry.job.status.state, (counts.get(entry.job.status.state) ?? 0) + 1);
    return counts;
  }

  /**
   * Graceful stop: running jobs are aborted as INTERRUPTED (not CANCELLED: they resume on the
   * next start), queued ones stay QUEUED; waits for the runs, flushes every write, ends watchers.
   */
  async close(): Promise<void> {
    if (this.phase === "closed" || this.phase === "closing") return;
    this.phase = "closing";
    for (const entry of this.entries.values()) {
      if (entry.controller && !entry.abortReason) {
        entry.abortReason = "shutdown";
        entry.controller.abort(new UnavailableError("the service is stopping"));
      }
    }
    await Promise.allSettled([...this.running.values()]);
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.recordDirty || entry.pendingLines.length > 0) await this.persistNow(entry).catch(() => {});
      await entry.io;
      for (const watcher of entry.watchers) watcher.end();
    }
    this.metrics?.detach();
    this.phase = "closed";
  }

  // ---- running ----

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Deferred so that Start/Resume answer QUEUED before the job moves on.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.phase === "open" && this.running.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift() as string;
      const entry = this.entries.get(id);
      if (entry?.job.status.state !== "QUEUED" || this.running.has(id)) continue;
      const run = this.execute(entry).finally(() => {
        this.running.delete(id);
        this.schedulePump();
      });
      this.running.set(id, run);
    }
  }

  private async execute(entry: Entry<Spec, Resolved, Extras, Event>): Promise<void> {
    const job = entry.job;
    const controller = new AbortController();
    entry.controller = controller;
    entry.abortReason = undefined;
    const started = this.now();
    entry.etaBase = { timeMs: started, done: job.status.done };
    const attempt = job.status.attempt;
    let outcome: { ok: true; result: JobResult<Extras> | undefined } | { ok: false; error: unknown };
    let live = true;
    try {
      await this.transition(entry, "RUNNING", attempt > 1 ? `running (attempt ${attempt})` : "running", {
        startedAtMs: started,
        etaMs: 0,
      });
      const ctx = this.contextFor(entry, controller.signal, () => live);
      outcome = controller.signal.aborted
        ? { ok: true, result: undefined }
        : { ok: true, result: await this.options.run(this.snapshot(entry), ctx) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    live = false;
    entry.controller = undefined;
    const seconds = Math.max(0, (this.now() - started) / 1000);
    const end = this.now();
    let result: JobRunOutcome;
    try {
      if (entry.abortReason === "cancel") {
        result = "cancelled";
        await this.transition(entry, "CANCELLED", entry.cancelReason ?? "cancelled", { finishedAtMs: end, etaMs: 0 });
      } else if (entry.abortReason === "shutdown") {
        result = "interrupted";
        job.autoResume = true;
        await this.transition(entry, "INTERRUPTED", "the service stopped while the job ran", { etaMs: 0 });
      } else if (outcome.ok) {
        result = "succeeded";
        const final = outcome.result ?? {};
        if (final.extras) job.extras = { ...job.extras, ...structuredClone(final.extras) };
        await this.transition(entry, "SUCCEEDED", final.message ?? "succeeded", {
          progress: 1,
          done: Math.max(job.status.done, job.status.total),
          finishedAtMs: end,
          etaMs: 0,
        });
      } else {
        result = "failed";
        const error = jobErrorOf(outcome.error);
        this.logger.warn("job failed", {
          kind: this.kind,
          jobId: job.id,
          code: error.code,
          error: error.message,
          ...(error.code === "INTERNAL" && outcome.error instanceof Error ? { stack: outcome.error.stack } : {}),
        });
        await this.transition(entry, "FAILED", error.message, { error, finishedAtMs: end, etaMs: 0 });
      }
      this.metrics?.recordRun(result, seconds);
    } catch (e) {
      this.logger.error("cannot record the end of a job run", {
        kind: this.kind,
        jobId: job.id,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private contextFor(
    entry: Entry<Spec, Resolved, Extras, Event>,
    signal: AbortSignal,
    live: () => boolean,
  ): JobContext<Extras, Event> {
    const job = entry.job;
    // After the run settles, late calls (a timer of the run function) change nothing.
    const whileLive =
      <A extends unknown[]>(f: (...args: A) => void) =>
      (...args: A) => {
        if (live()) f(...args);
      };
    const merge = (patch: Partial<Extras> | undefined) => {
      if (patch) job.extras = { ...job.extras, ...structuredClone(patch) };
    };
    return {
      signal,
      abortReason: () => entry.abortReason,
      jobDir: entry.dir,
      attempt: job.status.attempt,
      resumed: job.status.attempt > 1,
      resumeArgument: job.resumeArgument,
      report: whileLive((progress: JobProgress, extras?: Partial<Extras>) => {
        merge(extras);
        this.setStatus(entry, this.progressPatch(entry, progress));
        this.persistSoon(entry);
        this.notify(entry);
      }),
      emit: whileLive((event: Event, extras?: Partial<Extras>) => {
        merge(extras);
        this.appendEvent(entry, { type: "custom", custom: structuredClone(event) });
        this.persistSoon(entry);
        this.notify(entry);
      }),
      log: whileLive((level: LogLevel, message: string) => {
        this.logger[level](message, { kind: this.kind, jobId: job.id });
        this.appendEvent(entry, { type: "log", log: { level, message } });
      }),
      update: whileLive((extras: Partial<Extras>) => {
        merge(extras);
        this.persistSoon(entry);
        this.notify(entry);
      }),
    };
  }

  private progressPatch(entry: Entry<Spec, Resolved, Extras, Event>, p: JobProgress): Partial<JobStatusRecord> {
    const done = Math.max(0, p.done);
    const total = Math.max(0, p.total);
    let etaMs = p.etaMs;
    const base = entry.etaBase;
    if (etaMs === undefined) {
      const elapsed = this.now() - (base?.timeMs ?? 0);
      const progressed = done - (base?.done ?? done);
      etaMs = total > 0 && base && progressed > 0 && elapsed > 0 ? ((total - done) * elapsed) / progressed : 0;
    }
    return {
      done,
      total,
      progress: total > 0 ? Math.min(1, done / total) : 0,
      etaMs: Math.max(0, Math.round(etaMs)),
      ...(p.message !== undefined ? { message: p.message } : {}),
    };
  }

  // ---- state, events, persistence ----

  private transition(
    entry: Entry<Spec, Resolved, Extras, Event>,
    next: JobStateName,
    reason: string,
    patch: Partial<JobStatusRecord> = {},
  ): Promise<void> {
    const previous = entry.job.status.state;
    this.setStatus(entry, { message: reason, ...patch, state: next });
    this.appendEvent(entry, { type: "state_changed", stateChanged: { previous, current: next, reason } });
    this.logger.info("job state changed", { kind: this.kind, jobId: entry.job.id, previous, current: next, reason });
    this.notify(entry);
    return this.persistNow(entry);
  }

  private setStatus(entry: Entry<Spec, Resolved, Extras, Event>, patch: Partial<JobStatusRecord>): void {
    const status: JobStatusRecord = { ...entry.job.status, ...patch, updatedAtMs: this.now() };
    if (status.error === undefined) delete (status as { error?: unknown }).error;
    entry.job.status = status;
    entry.recordDirty = true;
  }

  private appendEvent(entry: Entry<Spec, Resolved, Extras, Event>, body: JobEventBody<Event>): void {
    const job = entry.job;
    job.lastSequence += 1;
    const event = { sequence: job.lastSequence, timeMs: this.now(), status: job.status, ...body } as JobEvent<Event>;
    entry.recordDirty = true;
    entry.pendingLines.push(`${JSON.stringify(event)}\n`);
    // Events go to disk promptly (Watch replays from the file); job.json follows its own pace.
    this.chain(entry, false).catch(() => {});
    for (const watcher of entry.watchers) watcher.push(event);
  }

  /** Writes pending events and job.json now; resolves once both are on disk. */
  private persistNow(entry: Entry<Spec, Resolved, Extras, Event>): Promise<void> {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.recordDirty = true;
    return this.chain(entry, true);
  }

  /** Rewrites job.json within `persistIntervalMs` (progress: many changes, one write). */
  private persistSoon(entry: Entry<Spec, Resolved, Extras, Event>): void {
    entry.recordDirty = true;
    if (entry.timer) return;
    const wait = Math.max(0, entry.lastRecordWriteMs + this.persistIntervalMs - Date.now());
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.chain(entry, true).catch(() => {});
    }, wait);
  }

  private chain(entry: Entry<Spec, Resolved, Extras, Event>, withRecord: boolean): Promise<void> {
    const write = entry.io.then(async () => {
      const lines = entry.pendingLines.splice(0);
      await appendEvents(entry.dir, lines);
      if (withRecord && entry.recordDirty) {
        entry.recordDirty = false;
        entry.lastRecordWriteMs = Date.now();
        await writeJobFile(entry.dir, entry.job as StoredJob<unknown, unknown, unknown>);
      }
    });
    entry.io = write.catch((e) => {
      entry.recordDirty = true;
      this.logger.error("cannot persist a job", {
        kind: this.kind,
        jobId: entry.job.id,
        error: e instanceof Error ? e.message : String(e),
      });
    });
    return write;
  }

  private async *follow(
    entry: Entry<Spec, Resolved, Extras, Event>,
    afterSequence: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<JobEvent<Event>> {
    const inbox = new EventQueue<JobEvent<Event>>();
    entry.watchers.add(inbox);
    if (this.phase === "closed") inbox.end();
    try {
      // Everything before the subscription is on disk once the writes queued so far are done.
      await this.chain(entry, false).catch(() => {});
      let last = Math.max(0, Math.floor(afterSequence));
      for (const event of await readEvents<Event>(entry.dir)) {
        if (signal?.aborted) return;
        if (event.sequence <= last) continue;
        yield event;
        last = event.sequence;
      }
      for (;;) {
        if (TERMINAL_JOB_STATES.has(entry.job.status.state) && last >= entry.job.lastSequence) return;
        const event = await inbox.next(signal);
        if (event === undefined) return;
        if (event.sequence <= last) continue;
        yield event;
        last = event.sequence;
        if (TERMINAL_JOB_STATES.has(event.status.state)) return;
      }
    } finally {
      entry.watchers.delete(inbox);
    }
  }

  // ---- helpers ----

  private newEntry(job: StoredJob<Spec, Resolved, Extras>): Entry<Spec, Resolved, Extras, Event> {
    return {
      job,
      dir: join(this.dir, job.id),
      watchers: new Set(),
      io: Promise.resolve(),
      pendingLines: [],
      recordDirty: false,
      lastRecordWriteMs: 0,
    };
  }

  private snapshot(entry: Entry<Spec, Resolved, Extras, Event>): JobSnapshot<Spec, Resolved, Extras> {
    const { format: _f, autoResume: _a, ...rest } = entry.job;
    return structuredClone(rest);
  }

  private notify(entry: Entry<Spec, Resolved, Extras, Event>): void {
    if (this.listeners.size === 0) return;
    const snapshot = this.snapshot(entry);
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (e) {
        this.logger.warn("a job change listener threw", { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private entryOf(id: string): Entry<Spec, Resolved, Extras, Event> {
    this.assertReadable();
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`${this.kind} job "${id}"`);
    return entry;
  }

  private assertUnclaimed(claims: readonly JobClaim[], exceptId: string): void {
    for (const claim of claims) {
      const holder = this.claimHolder(claim.path, exceptId);
      if (holder)
        throw new DomainError(
          "already_exists",
          `${claim.field}: "${claim.clientPath}" is written by job ${holder.job.id} (${holder.job.status.state.toLowerCase()}, ${holder.claim.field} "${holder.claim.clientPath}")`,
        );
    }
  }

  private unqueue(id: string): void {
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
  }

  private assertReadable(): void {
    if (this.phase === "new" || this.phase === "recovering")
      throw new UnavailableError(`${this.kind} jobs are still being loaded`);
  }

  private assertOpen(): void {
    this.assertReadable();
    if (this.phase !== "open") throw new UnavailableError(`the ${this.kind} service is stopping`);
  }

  private now(): number {
    return Math.floor(this.clock());
  }
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(b + sep) || b.startsWith(a + sep);
}
