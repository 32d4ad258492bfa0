import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "./rng.js";

test("same seed, same stream; different seeds differ; next is bound", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  const detached = b.next;
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => detached()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => c.next()),
  );
});

test("uniform in [0, 1) with a flat histogram; int(n) covers [0, n) evenly; normal has mean 0, variance 1", () => {
  const rng = new Rng(7);
  const n = 20000;
  const bins = new Array(10).fill(0);
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)]++;
  }
  for (const b of bins) assert.ok(Math.abs(b - n / 10) < 0.1 * (n / 10), `bin ${b}`);
  const counts = new Array(4).fill(0);
  for (let i = 0; i < 4000; i++) counts[rng.int(4)]++;
  for (const k of counts) assert.ok(Math.abs(k - 1000) < 120, `int(4) drew ${counts}`);
  let m = 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    m += z;
    v += z * z;
  }
  assert.ok(Math.abs(m / n) < 0.05 && Math.abs(v / n - 1) < 0.05);
});

test("chance(p) is true about p of the time; pick draws every item and refuses an empty list", () => {
  const rng = new Rng(11);
  let hits = 0;
  for (let i = 0; i < 10000; i++) if (rng.chance(0.3)) hits++;
  assert.ok(Math.abs(hits - 3000) < 200, `${hits}`);
  assert.equal(rng.chance(0), false);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(rng.pick(["a", "b", "c"]));
  assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
  assert.throws(() => rng.pick([]), /empty/);
});
