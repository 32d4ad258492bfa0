import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as g from "@exits/graph";
import { compositeCases, primitiveCases, structureCases } from "./grad-cases.js";
import { type GradCase, gradCheck } from "./grad-check.js";

async function expectClean(c: GradCase): Promise<void> {
  const r = await gradCheck(c);
  assert.ok(r.checked > 0, "nothing was checked");
  assert.deepEqual(r.failures, [], `${c.name}: max abs err ${r.maxAbsErr}`);
}

describe("gradient rules vs central finite differences (ORT CPU)", () => {
  for (const c of primitiveCases) test(c.name, () => expectClean(c));
});

describe("graph walk: fan-out and shared nodes", () => {
  for (const c of structureCases) test(c.name, () => expectClean(c));
});

describe("composites differentiate through the primitive rules", () => {
  for (const c of compositeCases) test(c.name, () => expectClean(c));
});

// The same cases in float32: every rule builds and runs with float32 kernels. eps 1e-3 keeps
// argmax/ties stable; float32 rounding of the outputs (~6e-8 relative) over 2·eps bounds the
// numeric error near 1e-4, truncation near 1e-6: atol 1e-3, rtol 1e-2.
describe("the same rules in float32", () => {
  for (const c of [...primitiveCases, ...structureCases, ...compositeCases]) {
    if (c.inputs.some((i) => i.dtype === "float32")) continue;
    test(c.name, () => expectClean({ ...c, dtype: "float32", eps: 1e-3, atol: 1e-3, rtol: 1e-2 }));
  }
});

test("every primitive with an ONNX lowering has an entry in the gradient table", async () => {
  const { opTable } = await import("./op-table.js");
  // `onnx.*` nodes are made by the lowering's optimiser after differentiation, never before.
  const missing = Object.keys(opTable).filter((op) => !op.startsWith("onnx.") && !(op in g.gradRules));
  assert.deepEqual(missing, []);
});
