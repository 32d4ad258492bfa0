import assert from "node:assert/strict";
import { test } from "node:test";
import { lrAt } from "./schedule.js";

const cfg = { baseLr: 1e-3, warmupSteps: 10, totalSteps: 110, minLrFactor: 0.2 };

test("linear warm-up reaches baseLr at the end of warm-up", () => {
  assert.equal(lrAt(0, cfg), 1e-4);
  assert.ok(Math.abs(lrAt(4, cfg) - 5e-4) < 1e-15);
  assert.equal(lrAt(9, cfg), 1e-3);
  assert.equal(lrAt(10, cfg), 1e-3);
});

test("cosine decays monotonically to the floor and holds it", () => {
  let prev = Infinity;
  for (let s = 10; s <= 110; s++) {
    const lr = lrAt(s, cfg);
    assert.ok(lr <= prev + 1e-18);
    prev = lr;
  }
  assert.ok(Math.abs(lrAt(60, cfg) - 6e-4) < 1e-12, "half way: mean of base and floor");
  assert.ok(Math.abs(lrAt(110, cfg) - 2e-4) < 1e-15);
  assert.ok(Math.abs(lrAt(500, cfg) - 2e-4) < 1e-15);
});
