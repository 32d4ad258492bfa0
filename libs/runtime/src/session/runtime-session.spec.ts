import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { MemoryLogger } from "@exits/base";
import { add, buildTrainStep, cast, gather, input, matmul, mean, mul, param, sub, sum, where } from "@exits/graph";
import { toOnnx } from "@exits/onnx";
import { CheckpointStore } from "../checkpoint/checkpoint-store.js";
import { bool, float32, float64, int64 } from "../tensor/host-tensor.js";
import { compileGraph } from "./graph-session.js";
import { resolveRuntimeConfig } from "./runtime-config.js";
import { createSession, resetProviderProbe } from "./runtime-session.js";
import { TrainStepRunner } from "./train-step-runner.js";

const dir = mkdtempSync(join(tmpdir(), "exits-session-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const cpu2 = { executionProvider: "cpu", intraOpNumThreads: 2 } as const;

/** A model touching every host dtype: float32 matmul, float64 sum, int64 gather, bool where. */
function mixedModel() {
  const x = input("x", [2, 3]);
  const w = input("w", [3, 2]);
  const d = input("d", [4], "float64");
  const idx = input("idx", [3], "int64");
  const cond = input("cond", [3], "bool");
  const table = input("table", [5]);
  const picked = gather(table, idx);
  return toOnnx({
    y: matmul(x, w),
    total: sum(mul(d, d)),
    picked,
    chosen: where(cond, picked, 0),
    idxPlusOne: add(idx, 1),
  }).bytes;
}

const feeds = {
  x: float32([1, 2, 3, 4, 5, 6], [2, 3]),
  w: float32([1, 0, 0, 1, 1, 1], [3, 2]),
  d: float64([1, 1e-6, 0.5, 0], [4]),
  idx: int64([4, 0, 2], [3]),
  cond: bool([true, false, true], [3]),
  table: float32([10, 11, 12, 13, 14], [5]),
};

describe("runtime sessions", () => {
  test("runs float32, float64, int64 and bool tensors through a typed run()", async () => {
    const s = await createSession(mixedModel(), { config: cpu2 });
    assert.equal(s.provider, "cpu");
    const out = await s.run(feeds);
    assert.deepEqual(out.y, float32([4, 5, 10, 11], [2, 2]));
    // 1 + 1e-12 + 0.25 survives only in float64 arithmetic.
    assert.deepEqual(out.total, float64([1 + 1e-12 + 0.25], []));
    assert.deepEqual(out.picked, float32([14, 10, 12], [3]));
    assert.deepEqual(out.chosen, float32([14, 0, 12], [3]));
    assert.deepEqual(out.idxPlusOne, int64([5n, 1n, 3n], [3]));
    assert.deepEqual(Object.keys(await s.run(feeds, ["y"])), ["y"]);
    await s.release();
  });

  test("checks inputs before ONNX Runtime does, naming the input", async () => {
    const s = await createSession(mixedModel(), { config: cpu2, name: "mixed" });
    const { x: _x, ...noX } = feeds;
    await assert.rejects(() => s.run(noX), /mixed: missing inputs x/);
    await assert.rejects(
      () => s.run({ ...feeds, x: float64([1, 2, 3, 4, 5, 6], [2, 3]) }),
      /input "x" must be float32, got float64/,
    );
    await assert.rejects(
      () => s.run({ ...feeds, x: float32([1, 2, 3, 4, 5, 6], [3, 2]) }),
      /input "x" must have shape \[2, 3\]/,
    );
    await assert.rejects(() => s.run({ ...feeds, nope: float32([1], [1]) }), /has no input "nope"/);
    await s.release();
  });

  test("CUDA requested but unavailable: falls back to CPU with a structured warning", async () => {
    resetProviderProbe();
    const logger = new MemoryLogger();
    const s = await createSession(mixedModel(), {
      config: { executionProvider: "cuda", intraOpNumThreads: 1 },
      logger,
      name: "m",
    });
    // This machine runs the CPU-only onnxruntime-node build; on a GPU node with the CUDA
    // libraries installed the session would be on CUDA and there would be no warning.
    if (s.provider === "cuda") return;
    assert.equal(s.provider, "cpu");
    const warn = logger.records.find((r) => r.level === "warn");
    assert.ok(warn, "a warning was logged");
    assert.match(warn.message, /falling back to CPU/);
    assert.equal(warn.fields.requested, "cuda");
    assert.equal(warn.fields.session, "m");
    assert.equal(typeof warn.fields.reason, "string");
    assert.deepEqual((await s.run(feeds)).y, float32([4, 5, 10, 11], [2, 2]));
    // A second session does not probe again but still says why it is on the CPU.
    const logger2 = new MemoryLogger();
    await createSession(mixedModel(), { config: { executionProvider: "cuda", intraOpNumThreads: 1 }, logger: logger2 });
    assert.equal(logger2.records.filter((r) => r.level === "warn").length, 1);
  });

  test("auto picks the CPU quietly when CUDA is missing; cpu never probes", async () => {
    const logger = new MemoryLogger();
    const s = await createSession(mixedModel(), {
      config: { executionProvider: "auto", intraOpNumThreads: 1 },
      logger,
    });
    if (s.provider === "cpu") assert.equal(logger.records.filter((r) => r.level === "warn").length, 0);
    const quiet = new MemoryLogger();
    await createSession(mixedModel(), { config: cpu2, logger: quiet });
    assert.ok(!quiet.records.some((r) => /CUDA/.test(r.message)));
    assert.equal(quiet.records[0]?.fields.intraOpNumThreads, 2);
  });

  test("a broken model fails with ONNX Runtime's reason, not a provider fallback", async () => {
    const logger = new MemoryLogger();
    await assert.rejects(() =>
      createSession(new Uint8Array([1, 2, 3]), { config: { executionProvider: "cuda", intraOpNumThreads: 1 }, logger }),
    );
  });

  test("configuration is validated, naming the field", () => {
    assert.throws(() => resolveRuntimeConfig({ intraOpNumThreads: 0 }), /intraOpNumThreads must be an integer ≥ 1/);
    assert.throws(
      () => resolveRuntimeConfig({ executionProvider: "tpu" as "cpu" }),
      /executionProvider must be one of auto, cpu, cuda/,
    );
    assert.throws(() => resolveRuntimeConfig({ graphOptimizationLevel: "max" as "all" }), /graphOptimizationLevel/);
    assert.equal(resolveRuntimeConfig({ intraOpNumThreads: 2 }).graphOptimizationLevel, "all");
  });

  test("session configuration entries reach ONNX Runtime", async () => {
    // An invalid thread-affinity entry is refused by ORT itself: proof that entries are passed.
    await assert.rejects(
      () =>
        createSession(mixedModel(), {
          config: { ...cpu2, sessionConfigEntries: { "session.intra_op_thread_affinities": "zz" } },
        }),
      /Processor id must consist of only digits/,
    );
    const s = await createSession(mixedModel(), { config: { ...cpu2, allowSpinning: false } });
    assert.deepEqual((await s.run(feeds)).y, float32([4, 5, 10, 11], [2, 2]));
  });

  test("profiling writes ONNX Runtime's trace where the prefix says", async () => {
    const prefix = join(dir, "prof");
    const s = await createSession(mixedModel(), {
      config: { ...cpu2, enableProfiling: true, profileFilePrefix: prefix },
    });
    await s.run(feeds);
    s.endProfiling();
    const files = readdirSync(dir).filter((f) => f.startsWith("prof"));
    assert.equal(files.length, 1);
    const trace = JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as { name: string; cat: string }[];
    assert.ok(trace.some((e) => e.cat === "Node" && /MatMul/.test(e.name)));
    await s.release();
  });
});

describe("training-step runner", () => {
  // Linear regression y = x·w + b, trained with AdamW from zero.
  function regression() {
    const x = input("x", [8, 2]);
    const y = input("y", [8, 1]);
    const w = param("w", [2, 1]);
    const b = param("b", [1]);
    const err = sub(add(matmul(x, w), b), y);
    return buildTrainStep({
      loss: mean(mul(err, err)),
      adamw: { weightDecay: 0 },
      extras: { wsum: sum(cast(w, "float32")) },
    });
  }
  const xs = float32(
    Array.from({ length: 16 }, (_, i) => Math.sin(i * 1.3)),
    [8, 2],
  );
  const ys = float32(
    Array.from({ length: 8 }, (_, i) => 2 * xs.data[2 * i]! - 3 * xs.data[2 * i + 1]! + 0.5),
    [8, 1],
  );
  const init = () =>
    new Map([
      ["w", float32([0, 0], [2, 1])],
      ["b", float32([0], [1])],
    ]);

  test("parameters and moments carry over between steps and the loss falls", async () => {
    const r = await TrainStepRunner.create(regression(), init(), { config: cpu2 });
    const first = (await r.run({ x: xs, y: ys }, 0.1)).loss!.data[0] as number;
    let last = first;
    for (let i = 0; i < 150; i++) last = (await r.run({ x: xs, y: ys }, 0.1)).loss!.data[0] as number;
    assert.equal(r.step, 151);
    assert.ok(last < first / 100, `loss ${first} → ${last}`);
    const w = r.parameters().get("w")!.data as Float32Array;
    assert.ok(Math.abs(w[0]! - 2) < 0.05 && Math.abs(w[1]! + 3) < 0.05, `w = ${[...w]}`);
    assert.deepEqual([...r.optimizerState().keys()].sort(), ["adam_m:b", "adam_m:w", "adam_v:b", "adam_v:w"]);
  });

  test("checkpoint and restore reproduce the next steps exactly", async () => {
    const store = new CheckpointStore(join(dir, "ckpt"));
    const a = await TrainStepRunner.create(regression(), init(), { config: cpu2 });
    for (let i = 0; i < 5; i++) await a.run({ x: xs, y: ys }, 0.05);
    await store.save(a.checkpoint({ lr: 0.05 }));
    const next = await a.run({ x: xs, y: ys }, 0.05);

    const b = await TrainStepRunner.create(regression(), init(), { config: cpu2 });
    const loaded = await store.loadLatest();
    assert.ok(loaded);
    b.restore(loaded);
    assert.equal(b.step, 5);
    const again = await b.run({ x: xs, y: ys }, 0.05);
    assert.deepEqual(again.loss, next.loss);
    assert.deepEqual(b.parameters(), a.parameters());
    assert.ok(existsSync(join(dir, "ckpt", "step-000000005", "manifest.json")));
  });

  test("EMA weights start at the parameters and follow the updated ones", async () => {
    const x = input("x", [8, 2]);
    const y = input("y", [8, 1]);
    const w = param("w", [2, 1]);
    const err = sub(matmul(x, w), y);
    const step = buildTrainStep({ loss: mean(mul(err, err)), adamw: { weightDecay: 0 }, ema: { momentum: 0.75 } });
    const r = await TrainStepRunner.create(step, new Map([["w", float32([1, -1], [2, 1])]]), { config: cpu2 });
    assert.deepEqual(r.optimizerState().get("ema:w"), float32([1, -1], [2, 1]));
    await r.run({ x: xs, y: ys }, 0.1);
    const p = r.parameters().get("w")!.data as Float32Array;
    const ema = r.optimizerState().get("ema:w")!.data as Float32Array;
    assert.ok(Math.abs(ema[0]! - (0.75 * 1 + 0.25 * p[0]!)) < 1e-6);
    assert.ok(Math.abs(ema[1]! - (0.75 * -1 + 0.25 * p[1]!)) < 1e-6);
  });

  test("compileGraph exposes the lowered model's inputs", async () => {
    const g = await compileGraph({ z: add(input("a", [2]), 1) }, { config: cpu2 });
    assert.deepEqual(
      g.model.inputs.map((i) => i.name),
      ["a"],
    );
    assert.deepEqual((await g.run({ a: float32([1, 2], [2]) })).z, float32([2, 3], [2]));
  });
});
