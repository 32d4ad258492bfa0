// The local shard runner with a stand-in shard command (a tiny Node script): parallelism is
// respected, a failing shard is retried and then reported, finished shards are not re-run, and a
// cancel stops the running processes.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ChildProcessShardRunner } from "./child-process-shard-runner.js";
import type { ShardEvent, ShardRunOptions } from "./shard-runner.js";

const dir = mkdtempSync(join(tmpdir(), "exits-shards-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// argv: <state dir> <job id>; env JOB_COMPLETION_INDEX. Behaviour by a file "<index>.plan" in the
// state dir: "flaky" fails the first attempt, "broken" always fails, "slow" sleeps 30 s.
const script = join(dir, "fake-shard.mjs");
writeFileSync(
  script,
  `import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const [state, jobId] = process.argv.slice(2);
const index = process.env.JOB_COMPLETION_INDEX;
const plan = existsSync(join(state, index + ".plan")) ? readFileSync(join(state, index + ".plan"), "utf8") : "";
const attemptFile = join(state, index + ".attempts");
const attempt = (existsSync(attemptFile) ? Number(readFileSync(attemptFile, "utf8")) : 0) + 1;
writeFileSync(attemptFile, String(attempt));
writeFileSync(join(state, index + ".running"), "");
await new Promise((r) => setTimeout(r, plan === "slow" ? 30000 : 60));
if (plan === "broken" || (plan === "flaky" && attempt === 1)) {
  console.error("shard " + index + ": simulated failure on attempt " + attempt);
  process.exit(3);
}
writeFileSync(join(state, index + ".json.tmp"), JSON.stringify({ jobId, index: Number(index) }));
renameSync(join(state, index + ".json.tmp"), join(state, index + ".json"));
`,
);

function runner(state: string) {
  return new ChildProcessShardRunner({
    shardCommand: (jobId) => ({ command: process.execPath, args: [script, state, jobId] }),
  });
}

function stateDir(name: string, plans: Record<number, string> = {}) {
  const path = mkdtempSync(join(dir, `${name}-`));
  for (const [index, plan] of Object.entries(plans)) writeFileSync(join(path, `${index}.plan`), plan);
  return path;
}

async function run(state: string, o: Omit<ShardRunOptions, "exportJobId">) {
  const events: ShardEvent[] = [];
  const running = new Set<number>();
  let peak = 0;
  for await (const e of runner(state).run({ exportJobId: "job-1", ...o })) {
    events.push(e);
    if (e.type === "started") running.add(e.index);
    else if (e.type !== "finished" && e.index !== undefined) running.delete(e.index);
    peak = Math.max(peak, running.size);
  }
  return { events, peak, finished: events.at(-1) as Extract<ShardEvent, { type: "finished" }> };
}

describe("ChildProcessShardRunner", () => {
  test("runs every shard once, at most `parallelism` at a time, JOB_COMPLETION_INDEX per shard", async () => {
    const state = stateDir("all");
    const { events, peak, finished } = await run(state, { shards: 5, parallelism: 2, retriesPerShard: 1 });
    assert.equal(peak, 2);
    assert.deepEqual(finished, { type: "finished", succeeded: [0, 1, 2, 3, 4], failed: [], cancelled: false });
    assert.equal(events.filter((e) => e.type === "started").length, 5);
    for (let i = 0; i < 5; i++)
      assert.deepEqual(JSON.parse(readFileSync(join(state, `${i}.json`), "utf8")), { jobId: "job-1", index: i });
  });

  test("a failing shard is retried; one that keeps failing is reported with its stderr", async () => {
    const state = stateDir("retry", { 1: "flaky", 2: "broken" });
    const { events, finished } = await run(state, { shards: 3, parallelism: 3, retriesPerShard: 1 });
    const of = (index: number) => events.filter((e) => "index" in e && e.index === index).map((e) => e.type);
    assert.deepEqual(of(0), ["started", "succeeded"]);
    assert.deepEqual(of(1), ["started", "retrying", "started", "succeeded"]);
    assert.deepEqual(of(2), ["started", "retrying", "started", "failed"]);
    const failed = events.find((e) => e.type === "failed") as Extract<ShardEvent, { type: "failed" }>;
    assert.match(failed.reason, /exit 3: shard 2: simulated failure on attempt 2/);
    assert.deepEqual([finished.succeeded, finished.failed], [[0, 1], [2]]);
    assert.equal(readFileSync(join(state, "2.attempts"), "utf8"), "2");
  });

  test("shards already finished (a resume) are reported, not run again", async () => {
    const state = stateDir("resume");
    const { events, finished } = await run(state, { shards: 3, parallelism: 2, retriesPerShard: 0, finished: [0, 2] });
    assert.deepEqual(
      events.filter((e) => e.type === "started").map((e) => (e as { index: number }).index),
      [1],
    );
    assert.deepEqual(finished.succeeded, [0, 1, 2]);
    assert.equal(existsSync(join(state, "0.attempts")), false);
  });

  test("cancel stops the running shards and reports them unfinished", async () => {
    const state = stateDir("cancel", { 0: "slow", 1: "slow" });
    const controller = new AbortController();
    const started = Date.now();
    const events: ShardEvent[] = [];
    for await (const e of runner(state).run({
      exportJobId: "job-1",
      shards: 3,
      parallelism: 2,
      retriesPerShard: 2,
      signal: controller.signal,
    })) {
      events.push(e);
      if (events.filter((x) => x.type === "started").length === 2) setTimeout(() => controller.abort(), 100);
    }
    assert.ok(Date.now() - started < 10_000, "the slow shards were stopped");
    assert.deepEqual(events.at(-1), { type: "finished", succeeded: [], failed: [0, 1, 2], cancelled: true });
    assert.equal(events.filter((e) => e.type === "retrying").length, 0, "a cancelled shard is not retried");
    assert.deepEqual(
      readdirSync(state).filter((f) => f.endsWith(".json")),
      [],
    );
  });
});
