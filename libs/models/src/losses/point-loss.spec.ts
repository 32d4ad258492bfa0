import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { grad, input, mean, Rng, sigmoid } from "@exits/graph";
import { compileGraph, float32, type HostTensor } from "@exits/runtime";
import { type GradCase, gradCheck } from "../../../onnx/src/grad-check.js";
import { cpu, maxAbsDiff, pythonLacks, runOracle } from "../testing/python-oracle.testing.js";
import { milLossPerObject, pointLoss } from "./point-loss.js";

/** MAL's Dice with ε = 1e-3 on each sum of squares. */
const dice = (inter: number, p2: number, t2: number) => 1 - (2 * inter) / (p2 + 1e-3 + (t2 + 1e-3));

const b = 2;
const R = 8;
const n = 4;
const rng = new Rng(9);
const logits = Float32Array.from({ length: b * R * R }, () => rng.uniform(-2, 2));
const target = Float32Array.from({ length: b * n * n }, () => (rng.next() < 0.4 ? 1 : 0));
const known = Float32Array.from({ length: b * n * n }, (_, i) => (target[i] || rng.next() < 0.5 ? 1 : 0));
const fallback = Float32Array.of(0, 1);
const box = new Float32Array(b * R * R);
for (let k = 0; k < b; k++) for (let y = 1; y < 7; y++) for (let x = 2; x < 7; x++) box[k * R * R + y * R + x] = 1;

describe("point loss and MIL per object", () => {
  test("by hand: the labelled patches only, the MIL term only where the fallback is 1", async () => {
    const m = input("m", [2, 4, 4]);
    const loss = pointLoss(m, input("t", [2, 2, 2]), input("k", [2, 2, 2]), input("f", [2]), input("bx", [2, 4, 4]), 4);
    const g = await compileGraph({ loss, mil: milLossPerObject(m, input("bx", [2, 4, 4])) }, { config: cpu });
    // A 4 × 4 mask whose top-left 2 × 2 block is foreground: pooled to 2 × 2 it is [1, 0; 0, 0].
    const mask = new Float32Array(32);
    for (const o of [0, 16]) mask.set([1, 1, 0, 0, 1, 1], o);
    // Object 0: Ŷ = [1, 0; 0, 0], K = the top row; object 1: Ŷ wrong ([0, 1; 0, 0]), with fallback.
    const out = await g.run({
      m: float32(mask, [2, 4, 4]),
      t: float32([1, 0, 0, 0, 0, 1, 0, 0], [2, 2, 2]),
      k: float32([1, 1, 0, 0, 1, 1, 0, 0], [2, 2, 2]),
      f: float32([0, 1], [2]),
      bx: float32(new Float32Array(32).fill(1), [2, 4, 4]),
    });
    await g.release();
    // The mask fills a quarter of the full box: column maxima [1, 1, 0, 0] vs [1, 1, 1, 1], rows too.
    const mil = 2 * dice(2, 2, 4);
    assert.ok(maxAbsDiff(out.mil!.data as Float32Array, [mil, mil]) < 1e-6, "MIL per object");
    const want = [dice(1, 1, 1), dice(0, 1, 1) + 4 * mil];
    assert.ok(maxAbsDiff(out.loss!.data as Float32Array, want) < 1e-5, `${[...out.loss!.data]} vs ${want}`);
  });

  test("values, MIL and the gradient equal PyTorch's", { skip: pythonLacks("torch") }, async (t) => {
    const x = input("mask_logits", [b, R, R]);
    const mask = sigmoid(x);
    const bx = input("box", [b, R, R]);
    const loss = pointLoss(mask, input("target", [b, n, n]), input("known", [b, n, n]), input("fallback", [b]), bx, 4);
    const g = await compileGraph(
      { loss, mil: milLossPerObject(mask, bx), grad: grad(mean(loss), [x])[0]! },
      { config: cpu },
    );
    const feeds: Record<string, HostTensor> = {
      mask_logits: float32(logits, [b, R, R]),
      target: float32(target, [b, n, n]),
      known: float32(known, [b, n, n]),
      fallback: float32(fallback, [b]),
      box: float32(box, [b, R, R]),
    };
    const out = await g.run(feeds);
    await g.release();
    const ref = await runOracle("method_oracle.py", "point", feeds, { lambda_mil: 4 });
    for (const k of ["loss", "mil", "grad"]) {
      const err = maxAbsDiff(out[k]!.data as Float32Array, ref.get(k)!.data as Float32Array);
      t.diagnostic(`${k}: max |graph − torch| ${err}`);
      assert.ok(err < 1e-5, k);
    }
  });

  test("gradients match central finite differences in float64 (both lowerings)", async (t) => {
    const values = (a: Float32Array) => ({ values: Float64Array.from(a), dtype: "float64" as const });
    const cases: GradCase[] = [
      {
        name: "pointLoss",
        inputs: [
          { shape: [b, R, R], gen: (u) => u() * 4 - 2 },
          { shape: [b, n, n], ...values(target) },
          { shape: [b, n, n], ...values(known) },
          { shape: [b], ...values(fallback) },
          { shape: [b, R, R], ...values(box) },
        ],
        build: ([l, t, k, f, bx]) => pointLoss(sigmoid(l!), t!, k!, f!, bx!, 4),
      },
      {
        name: "milLossPerObject",
        inputs: [
          { shape: [b, R, R], gen: (u) => u() * 4 - 2 },
          { shape: [b, R, R], ...values(box) },
        ],
        build: ([l, bx]) => milLossPerObject(sigmoid(l!), bx!),
      },
    ];
    for (const c of cases) {
      const r = await gradCheck({ ...c, eps: 1e-6, atol: 1e-8, rtol: 1e-5 });
      assert.ok(r.checked >= 2 * b * R * R, `${c.name}: ${r.checked} comparisons`);
      t.diagnostic(`${c.name}: ${r.checked} comparisons, max abs err ${r.maxAbsErr}`);
      assert.deepEqual(r.failures, [], `${c.name}: max abs err ${r.maxAbsErr}`);
    }
  });
});
