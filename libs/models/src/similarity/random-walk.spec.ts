import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { input, topoSort } from "@exits/graph";
import { compileGraph, float32 } from "@exits/runtime";
import { cpu, maxAbsDiff } from "../testing/python-oracle.testing.js";
import { randomWalk, retrievalScore } from "./random-walk.js";
import { sinkhorn, symmetricTransition } from "./sinkhorn.js";

// Two blocks of 4 patches: strong similarity inside a block, weak across. The foreground seed
// row is the mean one-hot of patches 0 and 1 (block 1), the background seed patch 7 (block 2).
const m = 8;
const s = new Float32Array(m * m);
for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) s[i * m + j] = i < 4 === j < 4 ? 1 : 0.02;
const seeds = new Float32Array(2 * m);
seeds[0] = 0.5;
seeds[1] = 0.5;
seeds[m + 7] = 1;

describe("random walk and retrieval score", () => {
  test("block-diagonal similarity: positive on the seed's block, negative on the other, the known π", async () => {
    const S = input("s", [1, m, m]);
    const seed = input("seeds", [1, 2, m]);
    const t = symmetricTransition(sinkhorn(S).doubly);
    const pi = randomWalk(seed, t, 3);
    const g = await compileGraph({ t, pi, score: retrievalScore(pi), zero: randomWalk(seed, t, 0) }, { config: cpu });
    const out = await g.run({ s: float32(s, [1, m, m]), seeds: float32(seeds, [1, 2, m]) });
    await g.release();
    // The uniform 2-block matrix is already doubly stochastic after scaling: T = s / rowsum, so
    // T = p·J₄/4 inside a block and q·J₄/4 across with p = 4/4.08, q = 0.08/4.08. After one step
    // any distribution that sums to 1 is constant on each block; it keeps mass a on its block
    // with a ↦ p·a + q·(1 − a).
    const p = 4 / 4.08;
    const q = 0.08 / 4.08;
    let a = 1;
    for (let step = 0; step < 3; step++) a = p * a + q * (1 - a);
    const want = Array.from({ length: 2 * m }, (_, i) => {
      const own = i < m ? i % m < 4 : i % m >= 4;
      return (own ? a : 1 - a) / 4;
    });
    assert.ok(maxAbsDiff(out.pi!.data as Float32Array, want) < 1e-5, "π equals the closed form");
    const score = out.score!.data as Float32Array;
    const diff = (m * (2 * a - 1)) / 4;
    for (let i = 0; i < m; i++)
      assert.ok(Math.abs(score[i]! - (i < 4 ? diff : -diff)) < 1e-4, `patch ${i}: ${score[i]}`);
    assert.deepEqual([...(out.zero!.data as Float32Array)], [...seeds], "α = 0 returns the seeds");
  });

  test("α vector–matrix products, never a matrix power: α matmuls of [B, K, M] by [B, M, M]", () => {
    const pi = randomWalk(input("seeds", [3, 2, 10]), input("t", [3, 10, 10]), 5);
    const products = topoSort([pi]).filter((n) => n.op === "matmul");
    assert.equal(products.length, 5);
    for (const p of products) assert.deepEqual([...p.shape], [3, 2, 10]);
    assert.throws(() => randomWalk(input("seeds", [1, 2, 4]), input("t", [1, 4, 4]), 1.5), /non-negative integer/);
  });
});
