import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "@exits/graph";
import fc from "fast-check";
import { gradCheck } from "./grad-check.js";

// Two shapes that broadcast together: a common full shape, each side drops leading axes
// and sets some axes to 1.
const shapePair = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
  .chain((full) =>
    fc.tuple(
      fc.constant(full),
      fc.integer({ min: 0, max: full.length - 1 }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
    ),
  )
  .map(([full, drop, onesA, onesB]) => ({
    a: full.map((d, i) => (onesA[i] ? 1 : d)),
    b: full.slice(drop).map((d, i) => (onesB[i + drop] ? 1 : d)),
  }));

const ops = {
  add: g.add,
  sub: g.sub,
  mul: g.mul,
  div: (a: g.Tensor, b: g.Tensor) => g.div(a, g.add(g.mul(b, b), 0.5)),
  maximum: g.maximum,
  pow: (a: g.Tensor, b: g.Tensor) => g.pow(g.add(g.mul(a, a), 0.5), b),
};

test("property: binary ops' gradients under random broadcasting match finite differences", async () => {
  await fc.assert(
    fc.asyncProperty(
      shapePair,
      fc.constantFrom(...(Object.keys(ops) as (keyof typeof ops)[])),
      async ({ a, b }, op) => {
        const r = await gradCheck({
          name: `${op} ${a} ${b}`,
          inputs: [{ shape: a }, { shape: b }],
          build: ([x, y]) => ops[op](x!, y!),
        });
        assert.deepEqual(r.failures, [], `${op} [${a}] with [${b}]`);
      },
    ),
    { numRuns: 40, seed: 42 },
  );
});
