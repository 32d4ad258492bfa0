import { spawn } from "node:child_process";
import { AsyncQueue } from "./async-queue.js";
import { SHARD_EXIT_PERMANENT } from "./shard-exit-codes.js";
import type { ShardEvent, ShardRunner, ShardRunOptions } from "./shard-runner.js";

/** The process that runs one shard. */
export interface ShardCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface ChildProcessShardRunnerOptions {
  /** E.g. `{ command: process.execPath, args: [cliMain, "export-shard", "--job", id, "--index", String(k)] }`. */
  readonly shardCommand: (exportJobId: string, index: number) => ShardCommand;
  /** Added to the parent's environment; JOB_COMPLETION_INDEX is set per shard, as in a pod. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** How long a cancelled shard gets after SIGTERM before SIGKILL. Default 10 s. */
  readonly killGraceMs?: number;
}

const STDERR_TAIL = 2048;

/**
 * Runs the shards as local child processes, at most `parallelism` at once, each retried up to
 * `retriesPerShard` times (not after exit {@link SHARD_EXIT_PERMANENT}): the laptop and CI
 * counterpart of an Indexed Job.
 */
export class ChildProcessShardRunner implements ShardRunner {
  readonly kind = "local" as const;

  constructor(private readonly options: ChildProcessShardRunnerOptions) {}

  run(o: ShardRunOptions): AsyncIterable<ShardEvent> {
    const children = new Set<ReturnType<typeof spawn>>();
    const queue = new AsyncQueue<ShardEvent>(() => stopAll());
    const done = new Set(o.finished ?? []);
    const pending = Array.from({ length: o.shards }, (_, i) => i).filter((i) => !done.has(i));
    const attempts = new Map<number, number>();
    const succeeded = new Set<number>(done);
    let running = 0;
    let cancelled = false;

    const stopAll = () => {
      cancelled = true;
      for (const child of children) {
        child.kill("SIGTERM");
        setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), this.options.killGraceMs ?? 10_000).unref();
      }
    };
    const finish = () => {
      const notDone = Array.from({ length: o.shards }, (_, i) => i).filter((i) => !succeeded.has(i));
      queue.push({ type: "finished", succeeded: [...succeeded].sort((a, b) => a - b), failed: notDone, cancelled });
      queue.end();
    };
    const launch = (index: number) => {
      const attempt = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, attempt);
      running++;
      queue.push({ type: "started", index, attempt });
      const { command, args } = this.options.shardCommand(o.exportJobId, index);
      const child = spawn(command, [...args], {
        cwd: this.options.cwd,
        env: { ...process.env, ...this.options.env, JOB_COMPLETION_INDEX: String(index) },
        stdio: ["ignore", "ignore", "pipe"],
      });
      children.add(child);
      let stderr = "";
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_TAIL);
      });
      let spawnError: Error | undefined;
      child.on("error", (e) => {
        spawnError = e;
      });
      child.on("close", (code, signal) => {
        children.delete(child);
        running--;
        if (code === 0) {
          succeeded.add(index);
          queue.push({ type: "succeeded", index });
        } else if (!cancelled) {
          const reason =
            spawnError?.message ??
            `exit ${code ?? signal}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`;
          // Exit 2 says no retry can help (as the Indexed Job's pod failure policy reads it).
          if (code !== SHARD_EXIT_PERMANENT && attempt <= o.retriesPerShard) {
            queue.push({ type: "retrying", index, attempt, reason });
            pending.unshift(index);
          } else {
            queue.push({ type: "failed", index, reason });
          }
        }
        pump();
      });
    };
    const pump = () => {
      if (cancelled) {
        if (running === 0) finish();
        return;
      }
      while (running < Math.max(1, o.parallelism) && pending.length > 0) launch(pending.shift()!);
      if (running === 0 && pending.length === 0) finish();
    };

    if (o.signal?.aborted) cancelled = true;
    o.signal?.addEventListener(
      "abort",
      () => {
        stopAll();
        pump();
      },
      { once: true },
    );
    for (const index of done) if (index < o.shards) queue.push({ type: "succeeded", index });
    pump();
    return queue;
  }
}
