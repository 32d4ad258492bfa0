import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "./index.js";

test("an op on a needed path without a rule throws naming it", () => {
  const x = g.param("w", [3]);
  const mystery = new g.Tensor("mystery", [x], {}, [3], "float32");
  assert.throws(
    () => g.grad(g.sum(mystery), [x]),
    (e: unknown) => e instanceof g.GraphError && /no gradient rule for op "mystery"/.test(e.message),
  );
});

test("removing a rule from the table makes its op fail loudly", () => {
  const saved = g.gradRules["exp"];
  delete g.gradRules["exp"];
  try {
    const x = g.param("w", [3]);
    assert.throws(() => g.grad(g.sum(g.exp(x)), [x]), /no gradient rule for op "exp"/);
  } finally {
    g.gradRules["exp"] = saved!;
  }
});

test("nodes off the path from wrt to the loss are not differentiated", () => {
  const w = g.param("w", [3]);
  const data = g.input("data", [3]);
  // Only data flows into the unknown op: w's gradient never needs it.
  const feature = new g.Tensor("mystery", [data], {}, [3], "float32");
  const [gw] = g.grad(g.sum(g.mul(w, feature)), [w]);
  assert.deepEqual(gw!.shape, [3]);
  // Gradient of w·f w.r.t. w is f itself (times the ones cotangent): no rule for "mystery" was used.
  assert.ok(g.topoSort([gw!]).includes(feature));
});

test("stopGradient blocks the path; unconnected wrt gets zeros", () => {
  const x = g.param("x", [2]);
  const y = g.param("y", [2]);
  const [gx, gy] = g.grad(g.sum(g.mul(g.stopGradient(x), x)), [x, y]);
  // d/dx (sg(x)·x) = sg(x): one contribution only (numeric check in @exits/onnx lowering.spec).
  assert.ok(!g.topoSort([gx!]).some((t) => t.op === "add"));
  assert.equal(gy!.op, "expand");
  assert.ok(g.topoSort([gy!]).every((t) => t.op !== "param"));
  const [none] = g.grad(g.sum(g.stopGradient(g.exp(x))), [x]);
  assert.ok(g.topoSort([none!]).every((t) => t.op !== "param"));
});

test("the graph walk is iterative: 20000 chained ops differentiate", () => {
  const x = g.param("x", [2]);
  let y = x;
  for (let i = 0; i < 20000; i++) y = g.add(y, 1);
  const [gx] = g.grad(g.sum(y), [x]);
  assert.deepEqual(gx!.shape, [2]);
});

test("grad refuses non-scalar losses and integer wrt", () => {
  const x = g.param("x", [2]);
  assert.throws(() => g.grad(x, [x]), /^GraphError: grad: loss must be a float scalar/);
  assert.throws(() => g.grad(g.sum(x), [g.input("i", [2], "int64")]), /cannot differentiate with respect to a int64/);
});
