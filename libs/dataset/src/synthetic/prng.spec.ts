import assert from "node:assert/strict";
import { test } from "node:test";
import { createRng, mixSeed } from "./prng.js";

test("same seed, same stream; different seeds differ", () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => c.next()),
  );
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
});

test("uniform in [0, 1) with a flat histogram; int covers its inclusive range", () => {
  const rng = createRng(7);
  const bins = new Array(10).fill(0);
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)]++;
  }
  for (const b of bins) assert.ok(Math.abs(b - n / 10) < 0.1 * (n / 10), `bin ${b}`);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(rng.int(3, 6));
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  let m = 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    m += z;
    v += z * z;
  }
  assert.ok(Math.abs(m / n) < 0.05 && Math.abs(v / n - 1) < 0.05);
});
