import { MemoryLogger } from "@exits/base";
import { JobManager } from "./job-manager.js";
import type { JobContext, JobManagerOptions, JobResult, JobSnapshot } from "./job-types.js";

// Shared by the job framework's specs: a run function the test steers job by job.

export interface TestSpec {
  name: string;
}
export interface TestResolved {
  name: string;
  steps: number;
}
export interface TestExtras {
  note?: string;
  artifact?: string;
}
export type TestEvent = { tick: number };
export type TestManager = JobManager<TestSpec, TestResolved, TestExtras, TestEvent>;
export type TestSnapshot = JobSnapshot<TestSpec, TestResolved, TestExtras>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A run function that waits, per job, until the test releases it (with a result or an error) or
 * its signal fires (then it returns, like a training loop that stops at a safe point).
 */
export class SteeredRuns {
  private readonly gates = new Map<string, Deferred<JobResult<TestExtras> | undefined>>();
  private readonly startedGates = new Map<string, Deferred<JobContext<TestExtras, TestEvent>>>();
  readonly calls: { id: string; attempt: number; resumed: boolean; argument: unknown }[] = [];

  readonly run = async (job: TestSnapshot, ctx: JobContext<TestExtras, TestEvent>) => {
    this.calls.push({ id: job.id, attempt: ctx.attempt, resumed: ctx.resumed, argument: ctx.resumeArgument });
    const gate = this.gate(job.id);
    this.started(job.id).resolve(ctx);
    const onAbort = () => gate.resolve(undefined);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await gate.promise;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      this.gates.delete(job.id);
      this.startedGates.delete(job.id);
    }
  };

  /** Resolves with the job's context once its run function is called. */
  whenStarted(id: string): Promise<JobContext<TestExtras, TestEvent>> {
    return this.started(id).promise;
  }

  release(id: string, result?: JobResult<TestExtras>): void {
    this.gate(id).resolve(result);
  }

  fail(id: string, error: unknown): void {
    this.gate(id).reject(error);
  }

  private gate(id: string) {
    let gate = this.gates.get(id);
    if (!gate) {
      gate = deferred();
      this.gates.set(id, gate);
    }
    return gate;
  }

  private started(id: string) {
    let gate = this.startedGates.get(id);
    if (!gate) {
      gate = deferred();
      this.startedGates.set(id, gate);
    }
    return gate;
  }
}

export async function openManager(
  dir: string,
  run: JobManagerOptions<TestSpec, TestResolved, TestExtras, TestEvent>["run"],
  options: Partial<JobManagerOptions<TestSpec, TestResolved, TestExtras, TestEvent>> = {},
): Promise<{ manager: TestManager; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const manager: TestManager = new JobManager({ dir, kind: "test", run, logger, persistIntervalMs: 50, ...options });
  await manager.recover();
  return { manager, logger };
}

/** Resolves once job `id` is in `state` (polls; the manager's changes are asynchronous). */
export async function waitForState(manager: TestManager, id: string, state: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = manager.get(id);
    if (job.status.state === state) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} stayed ${job.status.state}, expected ${state}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function prepared(name: string, claims: TestSnapshot["claims"] = []) {
  return () => ({ resolvedSpec: { name, steps: 3 }, extras: {}, claims });
}
