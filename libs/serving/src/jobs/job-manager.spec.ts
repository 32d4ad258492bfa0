import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DomainError, InvalidArgumentError } from "@exits/platform";
import { Registry } from "prom-client";
import { openManager, prepared, SteeredRuns, type TestEvent, waitForState } from "./job-test-kit.js";
import type { JobEvent } from "./job-types.js";

const scratch = mkdtempSync(join(tmpdir(), "exits-jobs-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(scratch, `jobs-${++dirs}`);

async function collect(events: AsyncIterable<JobEvent<TestEvent>>): Promise<JobEvent<TestEvent>[]> {
  const out: JobEvent<TestEvent>[] = [];
  for await (const event of events) out.push(event);
  return out;
}

function isDomain(kind: string, pattern: RegExp) {
  return (e: unknown) => e instanceof DomainError && e.statusKind === kind && pattern.test(e.message);
}

describe("JobManager", () => {
  test("a job runs to SUCCEEDED, and a new manager on the same directory reads it back unchanged", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    const queued = await manager.start(
      { name: "a" },
      { labels: { team: "x" }, prepare: () => ({ resolvedSpec: { name: "a", steps: 4 }, extras: { note: "n" } }) },
    );
    assert.equal(queued.status.state, "QUEUED");
    assert.equal(queued.status.attempt, 1);
    assert.match(queued.id, /^[0-9a-z]{9}-[0-9a-f]{8}$/);
    const ctx = await runs.whenStarted(queued.id);
    assert.equal(manager.get(queued.id).status.state, "RUNNING");
    assert.equal(ctx.jobDir, join(dir, queued.id));
    ctx.report({ done: 2, total: 4, message: "half" }, { note: "halfway" });
    const half = manager.get(queued.id);
    assert.equal(half.status.progress, 0.5);
    assert.equal(half.status.message, "half");
    assert.equal(half.extras.note, "halfway");
    runs.release(queued.id, { extras: { artifact: "models/a" }, message: "done" });
    const done = await waitForState(manager, queued.id, "SUCCEEDED");
    assert.equal(done.status.progress, 1);
    assert.equal(done.status.message, "done");
    assert.ok(done.status.finishedAtMs >= done.status.startedAtMs && done.status.startedAtMs > 0);
    await manager.close();

    const onDisk = JSON.parse(readFileSync(join(dir, queued.id, "job.json"), "utf8"));
    assert.equal(onDisk.status.state, "SUCCEEDED");
    const again = await openManager(dir, runs.run);
    const reloaded = again.manager.get(queued.id);
    assert.deepEqual(reloaded, done);
    assert.deepEqual(reloaded.spec, { name: "a" });
    assert.deepEqual(reloaded.resolvedSpec, { name: "a", steps: 4 });
    assert.deepEqual(reloaded.extras, { note: "halfway", artifact: "models/a" });
    assert.deepEqual(reloaded.labels, { team: "x" });
    assert.equal(runs.calls.length, 1, "a succeeded job is not run again");
    await again.manager.close();
  });

  test("request_id: the same key answers the first job, concurrently and after a reload; prepare errors write nothing", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    await assert.rejects(
      manager.start(
        { name: "bad" },
        {
          requestId: "r0",
          prepare: () => {
            throw new InvalidArgumentError("spec.output_dir", "is absolute");
          },
        },
      ),
      (e: unknown) => e instanceof InvalidArgumentError && e.field === "spec.output_dir",
    );
    assert.deepEqual(readdirSync(dir), [], "nothing written for an invalid spec");
    assert.equal(manager.list().jobs.length, 0);

    let prepares = 0;
    const prepare = async () => {
      prepares++;
      await new Promise((r) => setTimeout(r, 10));
      return { resolvedSpec: { name: "k", steps: 1 }, extras: {} };
    };
    const [a, b] = await Promise.all([
      manager.start({ name: "k" }, { requestId: "r1", prepare }),
      manager.start({ name: "k" }, { requestId: "r1", prepare }),
    ]);
    assert.equal(a.id, b.id);
    const c = await manager.start({ name: "k" }, { requestId: "r1", prepare });
    assert.equal(c.id, a.id);
    assert.equal(prepares, 2, "a key seen before skips prepare");
    const other = await manager.start({ name: "k" }, { requestId: "r2", prepare });
    assert.notEqual(other.id, a.id);
    const none1 = await manager.start({ name: "k" }, { prepare });
    const none2 = await manager.start({ name: "k" }, { prepare });
    assert.notEqual(none1.id, none2.id, "an empty request_id is no key");
    await manager.close();

    const again = await openManager(dir, runs.run);
    const d = await again.manager.start(
      { name: "k" },
      {
        requestId: "r1",
        prepare: () => {
          throw new Error("must not be called");
        },
      },
    );
    assert.equal(d.id, a.id);
    assert.equal(again.manager.list().jobs.length, 4);
    await again.manager.close();
  });

  test("watch replays after after_sequence, follows live events and ends after the terminal one", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    assert.throws(() => manager.watch("000000000-00000000"), isDomain("not_found", /000000000-00000000/));
    const job = await manager.start({ name: "w" }, { prepare: prepared("w") });
    const live = collect(manager.watch(job.id, 0));
    const ctx = await runs.whenStarted(job.id);
    ctx.emit({ tick: 1 });
    ctx.log("info", "hello");
    ctx.emit({ tick: 2 }, { note: "t2" });
    runs.release(job.id);
    const events = await live;
    assert.deepEqual(
      events.map((e) => e.sequence),
      events.map((_, i) => i + 1),
    );
    assert.deepEqual(
      events.map((e) =>
        e.type === "state_changed"
          ? `${e.stateChanged.previous}>${e.stateChanged.current}`
          : e.type === "log"
            ? `log:${e.log.message}`
            : `tick:${e.custom.tick}`,
      ),
      ["UNSPECIFIED>QUEUED", "QUEUED>RUNNING", "tick:1", "log:hello", "tick:2", "RUNNING>SUCCEEDED"],
    );
    assert.equal(events.at(-1)?.status.state, "SUCCEEDED");
    assert.equal(events[2]?.status.state, "RUNNING");

    const replay = await collect(manager.watch(job.id, 3));
    assert.deepEqual(
      replay.map((e) => e.sequence),
      [4, 5, 6],
    );
    assert.deepEqual(await collect(manager.watch(job.id, 6)), [], "nothing after the last event: ends at once");

    // A reconnecting watcher of a live job gets the rest, then live ones.
    const second = await manager.start({ name: "w2" }, { prepare: prepared("w2") });
    const ctx2 = await runs.whenStarted(second.id);
    ctx2.emit({ tick: 7 });
    const rest = collect(manager.watch(second.id, 2));
    await new Promise((r) => setTimeout(r, 20));
    ctx2.emit({ tick: 8 });
    runs.release(second.id);
    const got = await rest;
    assert.deepEqual(
      got.map((e) => e.sequence),
      [3, 4, 5],
    );
    assert.deepEqual(
      got.filter((e) => e.type === "custom").map((e) => (e.type === "custom" ? e.custom.tick : 0)),
      [7, 8],
    );
    await manager.close();
  });

  test("a watch ends when its signal fires", async () => {
    const runs = new SteeredRuns();
    const { manager } = await openManager(freshDir(), runs.run);
    const job = await manager.start({ name: "s" }, { prepare: prepared("s") });
    await runs.whenStarted(job.id);
    const controller = new AbortController();
    const watching = collect(manager.watch(job.id, 0, controller.signal));
    setTimeout(() => controller.abort(), 20);
    const events = await watching;
    assert.ok(events.length >= 2);
    runs.release(job.id);
    await manager.close();
  });

  test("cancel: queued at once, running via CANCELLING, terminal and twice unchanged", async () => {
    const runs = new SteeredRuns();
    const { manager } = await openManager(freshDir(), runs.run);
    const a = await manager.start({ name: "a" }, { prepare: prepared("a") });
    const b = await manager.start({ name: "b" }, { prepare: prepared("b") });
    const ctx = await runs.whenStarted(a.id);
    assert.equal(manager.get(b.id).status.state, "QUEUED", "concurrency 1: b waits");

    const cb = await manager.cancel(b.id, "not needed");
    assert.equal(cb.status.state, "CANCELLED");
    assert.equal(cb.status.message, "cancel requested: not needed");
    assert.ok(cb.status.finishedAtMs > 0);

    // The run stops as soon as its signal fires, so the answer may already be CANCELLED.
    const ca = await manager.cancel(a.id, "");
    assert.ok(ctx.signal.aborted);
    assert.equal(ctx.abortReason(), "cancel");
    assert.ok(["CANCELLING", "CANCELLED"].includes(ca.status.state));
    const cancelled = await waitForState(manager, a.id, "CANCELLED");
    assert.equal(cancelled.status.message, "cancel requested");
    const twice = await manager.cancel(a.id, "again");
    assert.deepEqual(twice, cancelled, "cancelling a terminal job answers it unchanged");
    assert.deepEqual(await manager.cancel(b.id), cb);
    await assert.rejects(manager.cancel("000000000-00000000"), isDomain("not_found", /000000000-00000000/));
    await manager.close();
  });

  test("a run that ignores the signal a while stays CANCELLING; a second cancel answers CANCELLING", async () => {
    const { manager } = await openManager(freshDir(), async (_job, ctx) => {
      await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => setTimeout(r, 100)));
      return undefined;
    });
    const job = await manager.start({ name: "slow" }, { prepare: prepared("slow") });
    await waitForState(manager, job.id, "RUNNING");
    const first = await manager.cancel(job.id, "stop");
    assert.equal(first.status.state, "CANCELLING");
    const second = await manager.cancel(job.id, "stop again");
    assert.equal(second.status.state, "CANCELLING");
    assert.equal(second.status.message, "cancel requested: stop");
    await waitForState(manager, job.id, "CANCELLED");
    await manager.close();
  });

  test("failures map to gRPC status names; resume only from interrupted, failed or cancelled", async () => {
    const runs = new SteeredRuns();
    const { manager } = await openManager(freshDir(), runs.run);
    const job = await manager.start({ name: "f" }, { prepare: prepared("f") });
    await runs.whenStarted(job.id);
    await assert.rejects(manager.resume(job.id), isDomain("failed_precondition", new RegExp(`${job.id} is running`)));
    const queued = await manager.start({ name: "q" }, { prepare: prepared("q") });
    await assert.rejects(manager.resume(queued.id), isDomain("failed_precondition", /is queued/));

    runs.fail(job.id, new InvalidArgumentError("config.optimizer.lr", "must be > 0"));
    const failed = await waitForState(manager, job.id, "FAILED");
    assert.deepEqual(failed.status.error, {
      code: "INVALID_ARGUMENT",
      message: "config.optimizer.lr: must be > 0",
      field: "config.optimizer.lr",
    });
    const resumed = await manager.resume(job.id, { argument: { checkpoint: "ck/1" } });
    assert.equal(resumed.status.state, "QUEUED");
    assert.equal(resumed.status.attempt, 2);
    assert.equal(resumed.status.error, undefined);
    assert.equal(resumed.status.finishedAtMs, 0);

    // q runs first (queued earlier), then f's second attempt.
    await runs.whenStarted(queued.id);
    runs.release(queued.id);
    await waitForState(manager, queued.id, "SUCCEEDED");
    await assert.rejects(manager.resume(queued.id), isDomain("failed_precondition", /is succeeded/));
    await runs.whenStarted(job.id);
    assert.deepEqual(runs.calls.at(-1), { id: job.id, attempt: 2, resumed: true, argument: { checkpoint: "ck/1" } });
    runs.fail(job.id, new RangeError("boom"));
    const internal = await waitForState(manager, job.id, "FAILED");
    assert.deepEqual(internal.status.error, { code: "INTERNAL", message: "boom", field: "" });

    const c = await manager.start({ name: "c" }, { prepare: prepared("c") });
    await manager.cancel(c.id);
    const again = await manager.resume(c.id, { reason: "try again" });
    assert.equal(again.status.message, "try again");
    await runs.whenStarted(c.id);
    runs.release(c.id);
    await waitForState(manager, c.id, "SUCCEEDED");
    await manager.close();
  });

  test("list: newest first, paged, filtered by state and labels; a bad page token is INVALID_ARGUMENT page_token", async () => {
    const runs = new SteeredRuns();
    const { manager } = await openManager(freshDir(), runs.run, { concurrency: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const job = await manager.start(
        { name: `j${i}` },
        { labels: { parity: i % 2 ? "odd" : "even", n: String(i) }, prepare: prepared(`j${i}`) },
      );
      ids.push(job.id);
    }
    // Concurrency is at least 1: the oldest job runs; cancel a couple for the state filter.
    await runs.whenStarted(ids[0] as string);
    await manager.cancel(ids[2] as string);
    await manager.cancel(ids[5] as string);
    const newestFirst = [...ids].reverse();
    assert.deepEqual(
      manager.list().jobs.map((j) => j.id),
      newestFirst,
    );
    const pages: string[][] = [];
    let token = "";
    do {
      const page = manager.list({ pageSize: 3, pageToken: token });
      pages.push(page.jobs.map((j) => j.id));
      token = page.nextPageToken;
    } while (token !== "");
    assert.deepEqual(pages, [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
    assert.equal(manager.list({ pageSize: 7 }).nextPageToken, "", "an exactly full last page has no token");
    assert.equal(manager.list({ pageSize: 10_000 }).jobs.length, 7);
    assert.deepEqual(
      manager.list({ states: ["CANCELLED"] }).jobs.map((j) => j.id),
      [ids[5], ids[2]],
    );
    assert.deepEqual(
      manager.list({ states: ["RUNNING", "CANCELLED"] }).jobs.map((j) => j.id),
      [ids[5], ids[2], ids[0]],
    );
    assert.deepEqual(
      manager.list({ labelSelector: { parity: "odd" } }).jobs.map((j) => j.id),
      [ids[5], ids[3], ids[1]],
    );
    assert.deepEqual(
      manager.list({ labelSelector: { parity: "odd", n: "3" } }).jobs.map((j) => j.id),
      [ids[3]],
    );
    assert.deepEqual(manager.list({ labelSelector: { parity: "none" } }).jobs, []);
    for (const bad of ["garbage!", "Zm9v", Buffer.from("after:../../etc").toString("base64url")])
      assert.throws(
        () => manager.list({ pageToken: bad }),
        (e: unknown) => e instanceof InvalidArgumentError && e.field === "page_token",
        bad,
      );
    runs.release(ids[0] as string);
    for (const id of ids) await manager.cancel(id);
    await manager.close();
  });

  test("claims: two live jobs never write the same path (or one inside the other), also after a reload", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    const claim = (path: string) => [{ field: "spec.output_dir", path: `/data/${path}`, clientPath: path }];
    const a = await manager.start({ name: "a" }, { prepare: prepared("a", claim("models/a")) });
    await assert.rejects(
      manager.start({ name: "b" }, { prepare: prepared("b", claim("models/a")) }),
      isDomain("already_exists", new RegExp(`^spec.output_dir: "models/a" is written by job ${a.id}`)),
    );
    await assert.rejects(
      manager.start({ name: "b" }, { prepare: prepared("b", claim("models/a/ckpt")) }),
      isDomain("already_exists", /models\/a\/ckpt/),
    );
    await assert.rejects(
      manager.start({ name: "b" }, { prepare: prepared("b", claim("models")) }),
      isDomain("already_exists", /"models"/),
    );
    const sibling = await manager.start({ name: "ab" }, { prepare: prepared("ab", claim("models/ab")) });
    assert.equal(manager.claimHolder("/data/models/a/x")?.job.id, a.id);
    await manager.close();

    const again = await openManager(dir, runs.run);
    const m = again.manager;
    await assert.rejects(
      m.start({ name: "b" }, { prepare: prepared("b", claim("models/a")) }),
      isDomain("already_exists", /models\/a/),
    );
    await m.cancel(a.id);
    await m.cancel(sibling.id);
    const b = await m.start({ name: "b" }, { prepare: prepared("b", claim("models/a")) });
    await assert.rejects(m.resume(a.id), isDomain("already_exists", new RegExp(b.id)));
    await m.cancel(b.id);
    await m.close();
  });

  test("close interrupts running jobs, which the next manager resumes with attempt 2; queued ones stay queued", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    const a = await manager.start({ name: "a" }, { prepare: prepared("a") });
    const b = await manager.start({ name: "b" }, { prepare: prepared("b") });
    const ctx = await runs.whenStarted(a.id);
    await manager.close();
    assert.equal(ctx.abortReason(), "shutdown");
    assert.equal(manager.get(a.id).status.state, "INTERRUPTED");
    assert.equal(manager.get(b.id).status.state, "QUEUED");
    await assert.rejects(manager.start({ name: "c" }, { prepare: prepared("c") }), isDomain("unavailable", /stopping/));

    const next = new SteeredRuns();
    const again = await openManager(dir, next.run);
    const requeued = again.manager.get(a.id);
    assert.equal(requeued.status.attempt, 2);
    await next.whenStarted(a.id);
    assert.deepEqual(next.calls[0], { id: a.id, attempt: 2, resumed: true, argument: undefined });
    next.release(a.id);
    await next.whenStarted(b.id);
    assert.equal(next.calls[1]?.attempt, 1);
    next.release(b.id);
    await waitForState(again.manager, b.id, "SUCCEEDED");
    await again.manager.close();
  });

  test("a corrupt job.json or a torn events line is skipped with a warning, never a crash", async () => {
    const dir = freshDir();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run);
    const good = await manager.start({ name: "g" }, { prepare: prepared("g") });
    await runs.whenStarted(good.id);
    runs.release(good.id);
    await waitForState(manager, good.id, "SUCCEEDED");
    await manager.close();
    await mkdir(join(dir, "000000001-0000000a"));
    writeFileSync(join(dir, "000000001-0000000a", "job.json"), "{ not json");
    await mkdir(join(dir, "000000002-0000000b"));
    writeFileSync(join(dir, "000000002-0000000b", "job.json"), JSON.stringify({ format: 1, id: "other" }));
    writeFileSync(
      join(dir, good.id, "events.jsonl"),
      `${readFileSync(join(dir, good.id, "events.jsonl"), "utf8")}{"seq`,
    );

    const { manager: again, logger } = await openManager(dir, runs.run);
    assert.deepEqual(
      again.list().jobs.map((j) => j.id),
      [good.id],
    );
    assert.equal(logger.records.filter((r) => r.level === "warn").length, 2);
    const events = await collect(again.watch(good.id));
    assert.equal(events.at(-1)?.status.state, "SUCCEEDED");
    assert.ok(readFileSync(join(dir, good.id, "events.jsonl"), "utf8").endsWith("\n"));
    await again.close();
  });

  test("progress is persisted within the interval and the metrics count jobs by state and runs by outcome", async () => {
    const dir = freshDir();
    const registry = new Registry();
    const runs = new SteeredRuns();
    const { manager } = await openManager(dir, runs.run, { registry, persistIntervalMs: 30 });
    const job = await manager.start({ name: "p" }, { prepare: prepared("p") });
    const ctx = await runs.whenStarted(job.id);
    for (let done = 1; done <= 10; done++) ctx.report({ done, total: 40 });
    await new Promise((r) => setTimeout(r, 120));
    const onDisk = JSON.parse(readFileSync(join(dir, job.id, "job.json"), "utf8"));
    assert.equal(onDisk.status.done, 10);
    assert.equal(onDisk.status.progress, 0.25);
    let text = await registry.metrics();
    assert.match(text, /exits_jobs\{kind="test",state="running"\} 1/);
    assert.match(text, /exits_job_progress_ratio\{kind="test"\} 0.25/);
    runs.release(job.id);
    await waitForState(manager, job.id, "SUCCEEDED");
    text = await registry.metrics();
    assert.match(text, /exits_jobs\{kind="test",state="succeeded"\} 1/);
    assert.match(text, /exits_job_runs_total\{kind="test",outcome="succeeded"\} 1/);
    assert.doesNotMatch(text, /exits_job_progress_ratio\{/);
    await manager.close();
    assert.ok(existsSync(join(dir, job.id, "events.jsonl")));
  });
});
