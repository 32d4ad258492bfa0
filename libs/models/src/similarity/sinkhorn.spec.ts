import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { input, Rng } from "@exits/graph";
import { compileGraph, float32, float64 } from "@exits/runtime";
import { cpu, maxAbsDiff, pythonLacks, runOracle } from "../testing/python-oracle.testing.js";
import { sinkhorn, symmetricTransition } from "./sinkhorn.js";

const m = 16;
const rng = new Rng(1);
// Object 0: random positive similarities; object 1: already doubly stochastic (uniform), so one
// round must do; object 2: 70 % exact zeros (the floor keeps it normalisable), a pattern that
// Sinkhorn approaches only slowly: it reaches the cap of 50 rounds.
const s = new Float32Array(3 * m * m);
for (let i = 0; i < m * m; i++) s[i] = rng.uniform(0.01, 1);
s.fill(1 / m, m * m, 2 * m * m);
for (let i = 0; i < m * m; i++) s[2 * m * m + i] = rng.next() < 0.7 ? 0 : rng.uniform(0, 1);
for (let i = 0; i < m; i++) s[2 * m * m + i * m + i] = 1;

async function run(dtype: "float32" | "float64", opts = {}) {
  const S = input("s", [3, m, m], dtype);
  const { doubly, iterations, deviation } = sinkhorn(S, opts);
  const g = await compileGraph({ doubly, iterations, deviation, t: symmetricTransition(doubly) }, { config: cpu });
  const out = await g.run({
    s: dtype === "float32" ? float32(s, [3, m, m]) : float64(Float64Array.from(s), [3, m, m]),
  });
  await g.release();
  return {
    a: out.doubly!.data as Float32Array,
    t: out.t!.data as Float32Array,
    its: [...(out.iterations!.data as Float32Array)],
    dev: [...(out.deviation!.data as Float32Array)],
  };
}

function sums(x: ArrayLike<number>, b: number) {
  const rows = new Float64Array(m);
  const cols = new Float64Array(m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      rows[i]! += x[b * m * m + i * m + j]!;
      cols[j]! += x[b * m * m + i * m + j]!;
    }
  return { rows, cols };
}

describe("sinkhorn", () => {
  test("row and column sums within the tolerance; T = (A + Aᵀ)/2 symmetric and doubly stochastic", async () => {
    const tol = 1e-4;
    const { a, t, its, dev } = await run("float32", { tolerance: tol });
    for (let b = 0; b < 3; b++) {
      const { rows, cols } = sums(a, b);
      let worst = 0;
      for (let i = 0; i < m; i++) worst = Math.max(worst, Math.abs(rows[i]! - 1), Math.abs(cols[i]! - 1));
      // The reported deviation is the one measured here, up to float32 rounding of the sums.
      assert.ok(Math.abs(worst - dev[b]!) < 1e-5, `object ${b}: deviation ${dev[b]} vs measured ${worst}`);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) assert.equal(t[b * m * m + i * m + j], t[b * m * m + j * m + i]);
      if (b === 2) continue;
      assert.ok(worst <= tol + 1e-5, `object ${b}: max |sum − 1| ${worst}`);
      assert.ok(its[b]! < 50, `object ${b} stopped early (${its[b]} rounds)`);
      const ts = sums(t, b);
      for (let i = 0; i < m; i++) assert.ok(Math.abs(ts.rows[i]! - 1) <= 2 * tol, `T row ${i}: ${ts.rows[i]}`);
    }
    assert.equal(its[1], 1, "the uniform object stops after one round");
    assert.ok(its[0]! > 1, `the random object needs more than one round, got ${its[0]}`);
    assert.equal(its[2], 50, "the sparse object uses every round");
    assert.ok(dev[2]! > tol, `and says it did not converge (${dev[2]})`);
  });

  test("a cap below convergence uses every round and reports the remaining deviation", async () => {
    const { its, dev } = await run("float64", { maxIterations: 2, tolerance: 1e-12 });
    assert.deepEqual(its.slice(0, 1), [2]);
    assert.ok(dev[0]! > 1e-12, `deviation ${dev[0]}`);
  });

  test("equals the NumPy reference: the same rounds per object and the same matrix", {
    skip: pythonLacks("numpy"),
  }, async (t) => {
    for (const dtype of ["float32", "float64"] as const) {
      const { a, its, dev } = await run(dtype);
      const ref = await runOracle(
        "numpy_oracle.py",
        "sinkhorn",
        { s: float32(s, [3, m, m]) },
        { max_iter: 50, tol: 1e-4 },
      );
      assert.deepEqual(its, [...(ref.get("iterations")!.data as Float32Array)], `${dtype}: rounds`);
      t.diagnostic(
        `${dtype}: rounds ${its.join(", ")}; max |A − NumPy| ${maxAbsDiff(a, ref.get("doubly")!.data as Float32Array)}`,
      );
      assert.ok(maxAbsDiff(a, ref.get("doubly")!.data as Float32Array) < 1e-5, `${dtype}: matrix`);
      assert.ok(maxAbsDiff(dev, ref.get("deviation")!.data as Float32Array) < 1e-5, `${dtype}: deviation`);
    }
  });
});
