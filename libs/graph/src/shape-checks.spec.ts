import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "./index.js";

const x = (shape: number[], dtype: g.DType = "float32") => g.input("x", shape, dtype);

test("shape inference follows numpy broadcasting", () => {
  assert.deepEqual(g.add(x([2, 1, 4]), x([3, 1])).shape, [2, 3, 4]);
  assert.deepEqual(g.matmul(x([2, 1, 3, 4]), x([5, 4, 6])).shape, [2, 5, 3, 6]);
  assert.deepEqual(g.sum(x([2, 3, 4]), [0, -1]).shape, [3]);
  assert.deepEqual(g.max(x([2, 3, 4]), 1, true).shape, [2, 1, 4]);
  assert.deepEqual(g.reshape(x([2, 3, 4]), [-1, 4]).shape, [6, 4]);
  assert.deepEqual(g.slice(x([10]), [-7], [100], [0], [3]).shape, [3]);
  assert.deepEqual(g.gather(x([5, 3]), g.input("i", [2, 2], "int64"), 0).shape, [2, 2, 3]);
  assert.deepEqual(g.conv2d(x([1, 3, 16, 16]), x([8, 3, 4, 4]), { stride: 4 }).shape, [1, 8, 4, 4]);
  assert.deepEqual(g.convTranspose2d(x([1, 8, 4, 4]), x([8, 3, 2, 2]), { stride: 2 }).shape, [1, 3, 8, 8]);
  assert.deepEqual(g.resizeBilinear(x([1, 2, 4, 4]), 8, 6).shape, [1, 2, 8, 6]);
  assert.deepEqual(g.avgPool2d(x([1, 2, 7, 7]), 3, 2, 1).shape, [1, 2, 4, 4]);
});

test("build-time errors name the op", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => g.add(x([2, 3]), x([4])), /^add: cannot broadcast \[2,3\] with \[4\]/],
    [() => g.mul(x([2]), x([2], "float64")), /^mul: dtype mismatch float32 vs float64/],
    [() => g.matmul(x([2, 3]), x([4, 5])), /^matmul: inner dims differ/],
    [() => g.reshape(x([2, 3]), [4, 2]), /^reshape: cannot reshape \[2,3\] to \[4,2\]/],
    [() => g.transpose(x([2, 3]), [0, 0]), /^transpose: invalid permutation/],
    [() => g.sum(x([2, 3]), 2), /^sum: axis 2 out of range for rank 2/],
    [() => g.concat([x([2, 3]), x([3, 3])], 1), /^concat: shapes/],
    [() => g.conv2d(x([1, 3, 8, 8]), x([4, 2, 3, 3])), /^conv2d: input has 3 channels, weight expects 2/],
    [() => g.gather(x([3]), x([2])), /^gather: indices must be int64/],
    [() => g.where(x([2]), x([2]), x([2])), /^where: condition must be a bool Tensor/],
    [() => g.expand(x([3, 2]), [3, 4]), /^expand: cannot broadcast/],
    [() => g.exp(x([2], "int64")), /^exp: unsupported dtype int64/],
    [() => g.constant([1, 2, 3], [2, 2]), /^const: 3 values for shape \[2,2\]/],
  ];
  for (const [fn, re] of cases) assert.throws(fn, (e: unknown) => e instanceof g.GraphError && re.test(e.message));
});

test("numbers become scalars of the other operand's dtype", () => {
  const y = g.add(x([2], "float64"), 1);
  assert.equal(y.inputs[1]!.dtype, "float64");
  assert.deepEqual(y.inputs[1]!.shape, []);
});

test("no-op movement returns its input", () => {
  const t = x([2, 3]);
  assert.equal(g.reshape(t, [2, 3]), t);
  assert.equal(g.transpose(t, [0, 1]), t);
  assert.equal(g.slice(t, [0], [2]), t);
  assert.equal(g.sum(t, []), t);
});

test("reshape∘reshape and transpose∘transpose fold into one node", () => {
  const t = g.input("x", [2, 3, 4]);
  const r = g.reshape(g.reshape(t, [6, 4]), [4, 6]);
  assert.equal(r.inputs[0], t);
  const p = g.transpose(g.transpose(t, [1, 2, 0]), [2, 0, 1]);
  assert.equal(p, t, "the two permutations cancel");
  const q = g.transpose(g.transpose(t, [1, 0, 2]), [0, 2, 1]);
  assert.equal(q.inputs[0], t);
  assert.deepEqual(q.attrs["perm"], [1, 2, 0]);
  assert.deepEqual(q.shape, [3, 4, 2]);
});
