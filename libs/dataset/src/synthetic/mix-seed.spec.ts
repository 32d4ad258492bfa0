import assert from "node:assert/strict";
import { test } from "node:test";
import { mixSeed } from "./mix-seed.js";

test("mixSeed: order matters, neighbours spread, high bits count", () => {
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  assert.equal(mixSeed(7, 3), mixSeed(7, 3));
  assert.notEqual(mixSeed(2 ** 32 + 5), mixSeed(5));
  const seeds = Array.from({ length: 1000 }, (_, i) => mixSeed(1, i));
  assert.equal(new Set(seeds).size, 1000);
  // Neighbouring indices differ in about half their bits, not just the last few.
  let bits = 0;
  for (let i = 1; i < seeds.length; i++) bits += popcount((seeds[i]! ^ seeds[i - 1]!) >>> 0);
  assert.ok(Math.abs(bits / (seeds.length - 1) - 16) < 1.5, `${bits / (seeds.length - 1)} bits differ on average`);
});

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
