// Triton's dynamic-batcher semantics with a fake runner: what runs together, when, and what is
// refused or dropped (never computed).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DomainError } from "@exits/platform";
import { bucketFor, parseBuckets } from "./batch-buckets.js";
import { DynamicBatcher, type DynamicBatcherOptions } from "./dynamic-batcher.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runner that records each batch and answers input × 10 after `ms`. */
function fake(options: Partial<DynamicBatcherOptions<string, number, number>> = {}, ms = 5) {
  const batches: Array<{ context: string; inputs: number[] }> = [];
  const drops: Array<[string, number]> = [];
  let gate: Promise<void> | undefined;
  const batcher = new DynamicBatcher<string, number, number>({
    maxBatchSize: 4,
    maxQueueDelayMs: 20,
    maxQueueSize: 100,
    run: async (context, inputs) => {
      batches.push({ context, inputs: [...inputs] });
      if (gate) await gate;
      await sleep(ms);
      return inputs.map((x) => x * 10);
    },
    onDrop: (reason, n) => drops.push([reason, n]),
    ...options,
  });
  return {
    batcher,
    batches,
    drops,
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

const statusOf = (e: unknown) => (e instanceof DomainError ? e.statusKind : String(e));

describe("DynamicBatcher", () => {
  test("items of concurrent calls run together, up to maxBatchSize, results to the right caller", async () => {
    const { batcher, batches } = fake();
    const a = batcher.enqueue("m", "ctx", [1, 2, 3]);
    const b = batcher.enqueue("m", "ctx", [4, 5, 6]);
    assert.deepEqual(await Promise.all(a), [10, 20, 30]);
    assert.deepEqual(await Promise.all(b), [40, 50, 60]);
    // 6 items, max 4: one full batch at once (no waiting), then the rest after the delay.
    assert.deepEqual(
      batches.map((x) => x.inputs),
      [
        [1, 2, 3, 4],
        [5, 6],
      ],
    );
  });

  test("a partial batch waits maxQueueDelayMs for more, not longer", async () => {
    const { batcher, batches } = fake({ maxQueueDelayMs: 60 });
    const t0 = performance.now();
    const first = batcher.enqueue("m", "ctx", [1]);
    await sleep(15);
    const second = batcher.enqueue("m", "ctx", [2]);
    await Promise.all([...first, ...second]);
    const elapsed = performance.now() - t0;
    assert.deepEqual(
      batches.map((x) => x.inputs),
      [[1, 2]],
    );
    assert.ok(elapsed >= 55, `ran after ${elapsed} ms, before the delay`);
    assert.ok(elapsed < 400, `ran after ${elapsed} ms`);
  });

  test("delay 0: no batching across calls, a call's own objects still run together", async () => {
    const { batcher, batches } = fake({ maxQueueDelayMs: 0 });
    const a = batcher.enqueue("m", "ctx", [1, 2]);
    const b = batcher.enqueue("m", "ctx", [3]);
    await Promise.all([...a, ...b]);
    assert.deepEqual(
      batches.map((x) => x.inputs),
      [[1, 2], [3]],
    );
  });

  test("different keys (model versions) never share a run", async () => {
    const { batcher, batches } = fake();
    const a = batcher.enqueue("v1", "one", [1]);
    const b = batcher.enqueue("v2", "two", [2]);
    const c = batcher.enqueue("v1", "one", [3]);
    await Promise.all([...a, ...b, ...c]);
    assert.deepEqual(
      batches.map((x) => [x.context, x.inputs]),
      [
        ["one", [1, 3]],
        ["two", [2]],
      ],
    );
  });

  test("a full queue refuses the whole call with RESOURCE_EXHAUSTED; queued calls still finish", async () => {
    const { batcher, hold } = fake({ maxQueueSize: 5, maxBatchSize: 2 });
    const open = hold();
    const running = batcher.enqueue("m", "ctx", [1, 2]); // taken by the (held) run
    await sleep(5);
    const queued = batcher.enqueue("m", "ctx", [3, 4, 5, 6]);
    assert.equal(batcher.depth, 4);
    assert.throws(
      () => batcher.enqueue("m", "ctx", [7, 8]),
      (e: unknown) => statusOf(e) === "resource_exhausted" && /queue is full/.test((e as Error).message),
    );
    assert.equal(batcher.depth, 4, "nothing of the refused call was queued");
    open();
    assert.deepEqual(await Promise.all([...running, ...queued]), [10, 20, 30, 40, 50, 60]);
  });

  test("items whose deadline passed while queued are dropped, not run", async () => {
    const { batcher, batches, drops, hold } = fake({ maxBatchSize: 2 });
    const open = hold();
    const first = batcher.enqueue("m", "ctx", [1, 2]);
    await sleep(5);
    const late = batcher.enqueue("m", "ctx", [3, 4, 5], { deadline: Date.now() + 10 });
    const onTime = batcher.enqueue("m", "ctx", [6]);
    await sleep(30);
    open();
    for (const p of late) await assert.rejects(p, (e) => statusOf(e) === "deadline_exceeded");
    assert.deepEqual(await Promise.all([...first, ...onTime]), [10, 20, 60]);
    assert.deepEqual(
      batches.map((x) => x.inputs),
      [[1, 2], [6]],
    );
    assert.deepEqual(drops, [["deadline", 3]]);
  });

  test("a cancelled call's queued items are dropped at once, not run", async () => {
    const { batcher, batches, drops, hold } = fake({ maxBatchSize: 2 });
    const open = hold();
    const first = batcher.enqueue("m", "ctx", [1, 2]);
    await sleep(5);
    const controller = new AbortController();
    const cancelled = batcher.enqueue("m", "ctx", [3, 4], { signal: controller.signal });
    controller.abort();
    assert.equal(batcher.depth, 0, "dropped when cancelled, not at the next run");
    for (const p of cancelled) await assert.rejects(p, (e) => statusOf(e) === "cancelled");
    open();
    await Promise.all(first);
    assert.deepEqual(
      batches.map((x) => x.inputs),
      [[1, 2]],
    );
    assert.deepEqual(drops, [["cancelled", 2]]);
  });

  test("a failing run rejects its items only; the next batch runs", async () => {
    let calls = 0;
    const batcher = new DynamicBatcher<string, number, number>({
      maxBatchSize: 2,
      maxQueueDelayMs: 1,
      maxQueueSize: 10,
      run: async (_c, inputs) => {
        if (calls++ === 0) throw new Error("boom");
        return inputs;
      },
    });
    const a = batcher.enqueue("m", "c", [1, 2]);
    const b = batcher.enqueue("m", "c", [3]);
    for (const p of a) await assert.rejects(p, /boom/);
    assert.deepEqual(await Promise.all(b), [3]);
  });

  test("buckets: smallest bucket holding n; parse validates", () => {
    const buckets = [1, 2, 4, 8, 16, 32];
    assert.deepEqual(
      [1, 2, 3, 5, 9, 17, 32, 40].map((n) => bucketFor(n, buckets)),
      [1, 2, 4, 8, 16, 32, 32, 32],
    );
    assert.deepEqual(parseBuckets("8, 1,4,4"), [1, 4, 8]);
    assert.throws(() => parseBuckets("1,x"));
    assert.throws(() => parseBuckets("0"));
  });
});
