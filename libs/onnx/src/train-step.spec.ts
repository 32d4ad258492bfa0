import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "@exits/graph";
import { compile, type Feeds, rng } from "./ort-harness.js";

const N = 5;
const I = 3;
const O = 4;
const adamw = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
const sched = { baseLr: 0.05, warmupSteps: 2, totalSteps: 6, minLrFactor: 0.2 };
const emaMomentum = 0.9;

function buildStep(dtype: "float32" | "float64") {
  const x = g.input("x", [N, I], dtype);
  const t = g.input("t", [N, O], dtype);
  const w = g.param("w", [O, I], dtype);
  const b = g.param("b", [O], dtype);
  const scale = g.param("scale", [1], dtype);
  const pred = g.mul(g.linear(x, w, b), scale);
  const mse = g.mean(g.square(g.sub(pred, t)));
  const reg = g.mul(g.sum(g.square(w)), 0.01);
  return g.buildTrainStep({
    loss: g.add(mse, reg),
    terms: { mse, reg },
    extras: { pred },
    trainable: (name) => name !== "scale",
    adamw,
    weightDecay: (name) => (name === "b" ? 0 : undefined),
    ema: { momentum: emaMomentum },
  });
}

/** Plain TypeScript reference: the gradient of the same loss by hand, torch.optim.AdamW, EMA. */
function referenceSteps(x: number[], t: number[], w0: number[], b0: number[], scale: number, steps: number) {
  const w = [...w0];
  const b = [...b0];
  const state = { mw: w.map(() => 0), vw: w.map(() => 0), mb: b.map(() => 0), vb: b.map(() => 0) };
  const ema = { w: [...w0], b: [...b0] };
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    // The graph's lr input is float32 (as in the API); use the same rounded value.
    const lr = Math.fround(g.lrAt(step - 1, sched));
    const gw = w.map(() => 0);
    const gb = b.map(() => 0);
    let mse = 0;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++) {
        let z = b[o]!;
        for (let i = 0; i < I; i++) z += x[n * I + i]! * w[o * I + i]!;
        const r = z * scale - t[n * O + o]!;
        mse += (r * r) / (N * O);
        const dz = ((2 * r) / (N * O)) * scale;
        gb[o]! += dz;
        for (let i = 0; i < I; i++) gw[o * I + i]! += dz * x[n * I + i]!;
      }
    losses.push(mse + 0.01 * w.reduce((a, v) => a + v * v, 0));
    w.forEach((v, k) => {
      gw[k]! += 0.02 * v;
    });
    const update = (p: number[], grad: number[], m: number[], v: number[], wd: number) => {
      const bc1 = 1 - adamw.beta1 ** step;
      const bc2 = 1 - adamw.beta2 ** step;
      for (let k = 0; k < p.length; k++) {
        p[k] = p[k]! * (1 - lr * wd);
        m[k] = adamw.beta1 * m[k]! + (1 - adamw.beta1) * grad[k]!;
        v[k] = adamw.beta2 * v[k]! + (1 - adamw.beta2) * grad[k]! ** 2;
        p[k] = p[k]! - (lr / bc1) * (m[k]! / (Math.sqrt(v[k]!) / Math.sqrt(bc2) + adamw.eps));
      }
    };
    update(w, gw, state.mw, state.vw, adamw.weightDecay);
    update(b, gb, state.mb, state.vb, 0);
    ema.w = ema.w.map((e, k) => emaMomentum * e + (1 - emaMomentum) * w[k]!);
    ema.b = ema.b.map((e, k) => emaMomentum * e + (1 - emaMomentum) * b[k]!);
  }
  return { w, b, ema, losses, state };
}

async function runGraph(dtype: "float32" | "float64", steps: number) {
  const step = buildStep(dtype);
  const compiled = await compile(step.outputs);
  const u = rng(7);
  const arr = (n: number) => Array.from({ length: n }, () => u() * 2 - 1);
  const x = arr(N * I);
  const t = arr(N * O);
  const w0 = arr(O * I);
  const b0 = arr(O);
  const F = dtype === "float32" ? Float32Array : Float64Array;
  // The reference starts from the values exactly as the graph stores them.
  const [xs, ts, ws, bs] = [x, t, w0, b0].map((a) => Array.from(F.from(a)));
  const feeds: Feeds = {
    x: F.from(xs!),
    t: F.from(ts!),
    "param:scale": F.of(1.5),
    "param:w": F.from(ws!),
    "param:b": F.from(bs!),
    "adam_m:w": new F(O * I),
    "adam_v:w": new F(O * I),
    "adam_m:b": new F(O),
    "adam_v:b": new F(O),
    "ema:w": F.from(ws!),
    "ema:b": F.from(bs!),
  };
  const losses: number[] = [];
  let out: Record<string, ArrayLike<number>> = {};
  for (let s = 1; s <= steps; s++) {
    feeds["step"] = Float32Array.of(s);
    feeds["lr"] = Float32Array.of(g.lrAt(s - 1, sched));
    out = (await compiled.run(feeds)) as Record<string, ArrayLike<number>>;
    losses.push(out["loss"]![0]!);
    for (const name of ["w", "b"]) {
      feeds[`param:${name}`] = out[`new_param:${name}`] as Float32Array;
      feeds[`adam_m:${name}`] = out[`new_adam_m:${name}`] as Float32Array;
      feeds[`adam_v:${name}`] = out[`new_adam_v:${name}`] as Float32Array;
      feeds[`ema:${name}`] = out[`new_ema:${name}`] as Float32Array;
    }
  }
  const ref = referenceSteps(xs!, ts!, ws!, bs!, 1.5, steps);
  return { step, compiled, out, losses, ref };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test("train step graph: names of inputs and outputs", async () => {
  const { step, compiled } = await runGraph("float64", 1);
  assert.deepEqual(
    step.params.map((p) => p.name),
    ["w", "b"],
  );
  assert.deepEqual(
    step.frozen.map((p) => p.name),
    ["scale"],
  );
  const inputs = compiled.inputs.map((i) => i.name).sort();
  assert.deepEqual(inputs, [
    "adam_m:b",
    "adam_m:w",
    "adam_v:b",
    "adam_v:w",
    "ema:b",
    "ema:w",
    "lr",
    "param:b",
    "param:scale",
    "param:w",
    "step",
    "t",
    "x",
  ]);
  assert.deepEqual(Object.keys(step.outputs).sort(), [
    "loss",
    "loss:mse",
    "loss:reg",
    "new_adam_m:b",
    "new_adam_m:w",
    "new_adam_v:b",
    "new_adam_v:w",
    "new_ema:b",
    "new_ema:w",
    "new_param:b",
    "new_param:w",
    "pred",
  ]);
});

test("AdamW + EMA step graph (float64) matches the TypeScript reference over 5 steps", async () => {
  const { out, losses, ref } = await runGraph("float64", 5);
  assert.ok(maxDiff(losses, ref.losses) < 1e-12, `loss off by ${maxDiff(losses, ref.losses)}`);
  assert.ok(maxDiff(out["new_param:w"]!, ref.w) < 1e-12, `w off by ${maxDiff(out["new_param:w"]!, ref.w)}`);
  assert.ok(maxDiff(out["new_param:b"]!, ref.b) < 1e-12);
  assert.ok(maxDiff(out["new_adam_v:w"]!, ref.state.vw) < 1e-12);
  assert.ok(maxDiff(out["new_ema:w"]!, ref.ema.w) < 1e-12);
  assert.ok(maxDiff(out["new_ema:b"]!, ref.ema.b) < 1e-12);
});

test("AdamW + EMA step graph (float32) stays within 1e-6 of the float64 reference", async () => {
  const { out, losses, ref } = await runGraph("float32", 5);
  assert.ok(maxDiff(out["new_param:w"]!, ref.w) < 1e-6, `w off by ${maxDiff(out["new_param:w"]!, ref.w)}`);
  assert.ok(maxDiff(out["new_param:b"]!, ref.b) < 1e-6);
  assert.ok(maxDiff(out["new_ema:w"]!, ref.ema.w) < 1e-6);
  assert.ok(maxDiff(losses, ref.losses) < 1e-5);
  assert.ok(losses[4]! < losses[0]!, "the loss goes down");
});

test("a weight used through two param leaves of the same name gets the summed gradient", async () => {
  const x = g.input("x", [3], "float64");
  const loss = g.add(g.sum(g.mul(g.param("w", [3], "float64"), x)), g.sum(g.square(g.param("w", [3], "float64"))));
  const step = g.buildTrainStep({ loss, adamw: { weightDecay: 0 } });
  const c = await compile(step.outputs);
  const w = Float64Array.of(0.5, -1, 2);
  const xv = Float64Array.of(1, 2, 3);
  const out = await c.run({
    x: xv,
    "param:w": w,
    "adam_m:w": new Float64Array(3),
    "adam_v:w": new Float64Array(3),
    step: Float32Array.of(1),
    lr: Float32Array.of(0.1),
  });
  // m after the first step is (1 - β1)·g, and g = x + 2w.
  const m = out["new_adam_m:w"] as Float64Array;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(m[i]! / 0.1 - (xv[i]! + 2 * w[i]!)) < 1e-12);
});
