import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { formatIndexRanges } from "@exits/cluster";
import type { FakeKubeApi } from "@exits/cluster/testing";
import type { V1Container, V1Job } from "@kubernetes/client-node";

export interface FakeKubeletOptions {
  readonly api: FakeKubeApi;
  /** The image's ENTRYPOINT (the exits CLI); the container's args follow it. */
  readonly entrypoint: readonly string[];
  /** Pods of these indexes that crash before running (exit 137, as an OOM kill), per index. */
  readonly crashes?: ReadonlyMap<number, number>;
  /** Awaited before each pod starts (a test holds a shard back with it). */
  readonly beforePod?: (index: number, attempt: number) => Promise<void>;
}

/** One pod as it ran: its index, attempt and exit code. */
export interface PodRun {
  readonly index: number;
  readonly attempt: number;
  readonly exitCode: number;
}

/**
 * The Job controller and kubelet for one Indexed Job of a {@link FakeKubeApi}: runs every index
 * as a local process (the container's command or the ENTRYPOINT, its args with $(VAR) expanded
 * from its env, JOB_COMPLETION_INDEX set), at most `parallelism` at once, and writes the Job's
 * status as the controller does: active, succeeded, failed (pods), completedIndexes,
 * failedIndexes (backoffLimitPerIndex, podFailurePolicy FailIndex on exit codes), then a
 * Complete or Failed condition. Deleting the Job stops its pods (SIGTERM).
 */
export class FakeKubelet {
  readonly pods: PodRun[] = [];
  private readonly running = new Set<ChildProcess>();
  private stopped = false;

  constructor(private readonly o: FakeKubeletOptions) {}

  /** Waits for the Job to appear, then runs it until it finishes or is deleted. */
  async run(name: string, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.o.api.job(name)) {
      if (this.stopped || Date.now() > until) return;
      await sleep(10);
    }
    const job = this.o.api.job(name)!;
    const spec = job.spec!;
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const limit = spec.backoffLimitPerIndex ?? 0;
    const failIndexCodes = new Set(
      (spec.podFailurePolicy?.rules ?? [])
        .filter((r) => r.action === "FailIndex" && r.onExitCodes?.operator === "In")
        .flatMap((r) => r.onExitCodes!.values),
    );
    const container = spec.template.spec!.containers[0]!;
    const completed = new Set<number>();
    const failedIndexes = new Set<number>();
    const failures = new Map<number, number>();
    const crashes = new Map(this.o.crashes ?? []);
    const pending = Array.from({ length: completions }, (_, i) => i);
    let active = 0;
    let failedPods = 0;
    const write = () => {
      if (!this.o.api.job(name)) return;
      const finished = completed.size + failedIndexes.size === completions;
      this.o.api.updateStatus(name, (s) => {
        s.active = active;
        s.succeeded = completed.size;
        s.failed = failedPods;
        s.completedIndexes = formatIndexRanges(completed);
        s.failedIndexes = formatIndexRanges(failedIndexes);
        s.startTime ??= new Date();
        if (finished) {
          const type = failedIndexes.size > 0 ? "Failed" : "Complete";
          s.conditions = [
            {
              type,
              status: "True",
              ...(type === "Failed" ? { reason: "FailedIndexes", message: "Job has failed indexes" } : {}),
              lastTransitionTime: new Date(),
            },
          ];
          if (type === "Complete") s.completionTime = new Date();
        }
      });
    };
    const pod = async (index: number) => {
      const attempt = (failures.get(index) ?? 0) + 1;
      await this.o.beforePod?.(index, attempt);
      if (!this.o.api.job(name) || this.stopped) return;
      const crash = (crashes.get(index) ?? 0) > 0;
      if (crash) crashes.set(index, crashes.get(index)! - 1);
      const exitCode = crash ? 137 : await this.exec(container, index);
      this.pods.push({ index, attempt, exitCode });
      if (!this.o.api.job(name)) return;
      if (exitCode === 0) completed.add(index);
      else {
        failedPods++;
        failures.set(index, attempt);
        if (failIndexCodes.has(exitCode) || attempt > limit) failedIndexes.add(index);
        else pending.push(index);
      }
    };
    const inFlight = new Set<Promise<void>>();
    const gone = (async () => {
      while (this.o.api.job(name) && !this.stopped) await sleep(20);
    })();
    write();
    while (this.o.api.job(name) && !this.stopped) {
      while (active < parallelism && pending.length > 0) {
        const index = pending.shift()!;
        active++;
        const p: Promise<void> = pod(index).finally(() => {
          active--;
          inFlight.delete(p);
          write();
        });
        inFlight.add(p);
      }
      if (inFlight.size === 0) break;
      write();
      await Promise.race([...inFlight, gone]);
    }
    this.stop();
    // Pods held back by `beforePod` never start; the others end on SIGTERM.
    while (this.running.size > 0) await sleep(10);
  }

  /** Stops every pod (SIGTERM) and the control loop. */
  stop(): void {
    this.stopped = true;
    for (const child of this.running) child.kill("SIGTERM");
  }

  private exec(container: V1Container, index: number): Promise<number> {
    const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index) };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath.includes("job-completion-index")) env[e.name] = String(index);
    }
    const expand = (arg: string) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
    const [command, ...args] = [...(container.command ?? this.o.entrypoint), ...(container.args ?? []).map(expand)];
    const child = spawn(command!, args, {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.running.add(child);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    return new Promise((resolve) => {
      child.on("close", (code, signal) => {
        this.running.delete(child);
        if (code !== 0 && process.env["EXITS_TEST_DEBUG"]) console.error(`pod ${index}: ${code ?? signal}: ${stderr}`);
        resolve(code ?? 143);
      });
    });
  }
}

/** The env of a Job's container as a map (literal values only). */
export function containerEnv(job: V1Job): Record<string, string> {
  const container = job.spec!.template.spec!.containers[0]!;
  return Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}
