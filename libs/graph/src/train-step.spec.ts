import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "./index.js";

test("default trainable set: params the loss depends on; others stay frozen inputs", () => {
  const a = g.param("a", [2]);
  const b = g.param("b", [2]);
  const x = g.input("x", [2]);
  const step = g.buildTrainStep({ loss: g.sum(g.mul(a, x)), extras: { probe: g.mul(b, x) } });
  assert.deepEqual(
    step.params.map((p) => p.name),
    ["a"],
  );
  assert.deepEqual(
    step.frozen.map((p) => p.name),
    ["b"],
  );
  assert.ok("new_param:a" in step.outputs && !("new_param:b" in step.outputs));
});

test("a param declared twice with different shapes is rejected", () => {
  const loss = g.add(g.sum(g.param("w", [2])), g.sum(g.param("w", [3])));
  assert.throws(() => g.buildTrainStep({ loss }), /param: "w" declared as/);
});

test("lr and step inputs are float32 scalars", () => {
  const step = g.buildTrainStep({ loss: g.sum(g.square(g.param("w", [2], "float64"))) });
  const leaves = g.topoSort(Object.values(step.outputs)).filter((t) => t.op === "input");
  const byName = new Map(leaves.map((t) => [t.attrs["name"] as string, t]));
  assert.equal(byName.get("lr")!.dtype, "float32");
  assert.equal(byName.get("step")!.dtype, "float32");
  assert.equal(byName.get("adam_m:w")!.dtype, "float64");
});

test("paramsOf / inputsOf list leaves once, in graph order", () => {
  const w = g.param("w", [2]);
  const y = g.add(g.mul(w, g.input("x", [2])), g.mul(g.param("w", [2]), g.param("b", [2])));
  assert.deepEqual(
    g.paramsOf(y).map((p) => p.name),
    ["w", "b"],
  );
  assert.deepEqual(g.inputsOf(y), [{ name: "x", shape: [2], dtype: "float32" }]);
  assert.throws(() => g.paramsOf(g.add(g.sum(w), g.sum(g.param("w", [3])))), /param: "w" declared as/);
});
