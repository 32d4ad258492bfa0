import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as g from "@exits/graph";
import { type LowerOptions, toOnnx } from "./lower.js";
import { compile, type Feeds, rng } from "./ort-harness.js";
import { onnx } from "./proto.js";

const opTypes = (outputs: Record<string, g.Tensor>, opts?: LowerOptions) =>
  (onnx.ModelProto.decode(toOnnx(outputs, opts).bytes).graph?.node ?? []).map((n) => n.opType!);
const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

const D = 8;
const HEADS = 2;

/** A pre-norm transformer block (timm layout) with every composite the optimiser knows. */
function block(x: g.Tensor, dtype: g.DType): g.Tensor {
  const P = (name: string, shape: number[]) => g.param(name, shape, dtype);
  const attn = g.multiHeadSelfAttention(
    g.layerNorm(x, P("n1.w", [D]), P("n1.b", [D])),
    { qkvWeight: P("qkv.w", [3 * D, D]), qkvBias: P("qkv.b", [3 * D]), projWeight: P("proj.w", [D, D]) },
    HEADS,
  );
  const h = g.add(x, attn.out);
  const m = g.linear(
    g.gelu(g.linear(g.layerNorm(h, P("n2.w", [D]), P("n2.b", [D])), P("fc1.w", [2 * D, D]))),
    P("fc2.w", [D, 2 * D]),
  );
  return g.add(h, m);
}

function feedsFor(inputs: { name: string; shape: number[]; dtype: g.DType }[], seed: number): Feeds {
  const u = rng(seed);
  const feeds: Feeds = {};
  for (const s of inputs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const value = () =>
      s.name === "step"
        ? 3
        : s.name === "lr"
          ? 1e-2
          : s.name.startsWith("adam_v:")
            ? u() * 1e-2 // second moments are non-negative
            : (s.name.endsWith(".w") && s.shape.length === 1 ? 1 : 0) + u() - 0.5;
    const values = Array.from({ length: n }, value);
    feeds[s.name] = s.dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
  }
  return feeds;
}

/** Runs the same outputs lowered with and without the optimiser; returns both results. */
async function both(outputs: Record<string, g.Tensor>, seed = 7) {
  const fast = await compile(outputs);
  const slow = await compile(outputs, { optimize: false });
  const feeds = feedsFor(fast.inputs, seed);
  return { fast: await fast.run(feeds), slow: await slow.run(feeds) };
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, label: string): void {
  assert.equal(a.length, b.length, label);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= rtol * scale, `${label}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
}

function lossAndGrads(dtype: g.DType) {
  const x = g.input("x", [2, 5, D], dtype);
  const y = block(x, dtype);
  const loss = g.sum(
    g.mul(
      g.mul(y, y),
      g.constant(
        Array.from({ length: y.size }, (_, i) => Math.sin(i)),
        y.shape,
        dtype,
      ),
    ),
  );
  const leaves = g.topoSort([loss]).filter((t) => t.op === "param" || t.op === "input");
  const grads = g.grad(loss, leaves);
  const outputs: Record<string, g.Tensor> = { loss };
  leaves.forEach((l, i) => {
    outputs[`grad:${l.attrs["name"]}`] = grads[i]!;
  });
  return outputs;
}

describe("optimised lowering (composite regions → native ops, simplified backward)", () => {
  test("float64: loss and every gradient equal the unoptimised lowering", async () => {
    const outputs = lossAndGrads("float64");
    const { fast, slow } = await both(outputs);
    for (const key of Object.keys(outputs))
      assertClose(fast[key] as Float64Array, slow[key] as Float64Array, 1e-10, key);
  });

  test("float32 training step: new params and moments match the unoptimised step", async () => {
    const x = g.input("x", [2, 5, D]);
    const step = g.buildTrainStep({ loss: g.mean(g.square(block(x, "float32"))) });
    const { fast, slow } = await both(step.outputs, 11);
    for (const key of Object.keys(step.outputs))
      assertClose(fast[key] as Float32Array, slow[key] as Float32Array, 2e-5, key);
  });

  test("the training graph runs Softmax and LayerNormalization natively, not their primitive chains", () => {
    const x = g.input("x", [2, 5, D]);
    const step = g.buildTrainStep({ loss: g.mean(g.square(block(x, "float32"))) });
    const fast = opTypes(step.outputs);
    const slow = opTypes(step.outputs, { optimize: false });
    assert.equal(count(fast, "Softmax"), 1);
    assert.equal(count(fast, "LayerNormalization"), 2);
    assert.equal(count(fast, "ReduceMax"), 0);
    assert.equal(count(slow, "Softmax") + count(slow, "LayerNormalization"), 0);
    assert.ok(fast.length < slow.length - 20, `${fast.length} nodes vs ${slow.length}`);
  });

  test("a forward graph gets Gelu and LayerNormalization with the affine part folded in", () => {
    const x = g.input("x", [2, 5, D]);
    const ops = opTypes({ y: block(x, "float32") });
    assert.equal(count(ops, "Gelu"), 1);
    assert.equal(count(ops, "Erf"), 0);
    assert.equal(count(ops, "LayerNormalization"), 2);
    const model = onnx.ModelProto.decode(toOnnx({ y: block(x, "float32") }).bytes);
    for (const n of model.graph!.node!.filter((n) => n.opType === "LayerNormalization"))
      assert.equal(n.input!.length, 3, "scale and bias are the layer norm's own inputs");
  });

  test("a region whose internal value is used elsewhere stays primitive and still differentiates exactly", async () => {
    const x = g.input("x", [3, 4], "float64");
    const p = g.softmax(x, -1);
    const e = g.topoSort([p]).find((t) => t.op === "exp")!;
    const loss = g.add(g.sum(g.mul(p, g.constant([1, 2, 3, 4], [4], "float64"))), g.sum(g.log(e)));
    const [gx] = g.grad(loss, [x]);
    assert.equal(count(opTypes({ loss, gx: gx! }), "Softmax"), 0);
    const { fast, slow } = await both({ loss, gx: gx! });
    assertClose(fast["gx"] as Float64Array, slow["gx"] as Float64Array, 1e-12, "gx");
  });

  test("regionGradient marks the derived cotangent of a softmax input, and only that", () => {
    const x = g.input("x", [3, 4]);
    const w = g.input("w", [3, 4]);
    const p = g.softmax(x, 1);
    const [gx, gw] = g.grad(g.sum(g.mul(p, w)), [x, w]);
    const info = g.regionGradient(gx!);
    assert.equal(info?.region.kind, "softmax");
    assert.equal(info?.region.output, p);
    assert.equal(info?.input, 0);
    assert.equal(info?.region.attrs["axis"], 1);
    assert.equal(g.regionGradient(gw!), undefined);
  });

  test("optimize: false keeps every primitive (the debugging switch)", () => {
    const x = g.input("x", [2, 5, D]);
    const ops = opTypes({ y: block(x, "float32") }, { optimize: false });
    assert.equal(count(ops, "Gelu") + count(ops, "Softmax") + count(ops, "LayerNormalization"), 0);
    assert.ok(count(ops, "Erf") === 1 && count(ops, "ReduceMax") === 1);
  });
});

test("a float32 training step keeps float64 to scalars (AdamW bias corrections only)", () => {
  const x = g.input("x", [2, 5, D]);
  const step = g.buildTrainStep({ loss: g.mean(g.square(block(x, "float32"))) });
  const model = onnx.ModelProto.decode(toOnnx(step.outputs).bytes);
  const wide = g.topoSort(Object.values(step.outputs)).filter((t) => t.dtype === "float64" && t.rank > 0);
  assert.deepEqual(
    wide.map((t) => t.op),
    [],
  );
  const doubleInits = (model.graph?.initializer ?? []).filter((t) => t.dataType === 11 && (t.dims ?? []).length > 0);
  assert.equal(doubleInits.length, 0);
});

describe("optimised lowering: products, sums and slices", () => {
  test("sums over leading axes become products with ones, with equal values", async () => {
    const x = g.input("x", [4, 32, 8], "float64");
    const outputs = { s: g.sum(x, [0, 1]), k: g.sum(x, [0, 1], true), small: g.sum(g.slice(x, [0], [1], [0]), [0, 1]) };
    const ops = opTypes(outputs);
    assert.equal(count(ops, "MatMul"), 2);
    assert.equal(count(ops, "ReduceSum"), 1, "a reduction over 32 rows stays a ReduceSum");
    const { fast, slow } = await both(outputs);
    for (const key of Object.keys(outputs))
      assertClose(fast[key] as Float64Array, slow[key] as Float64Array, 1e-13, key);
  });

  test("gradients of disjoint slices are one Concat (zeros in the gaps), not pads and adds", async () => {
    const w = g.input("w", [6, 4], "float64");
    const [p0, p1, p2] = [0, 1, 2].map((i) => g.slice(w, [2 * i], [2 * i + 2], [0])) as [g.Tensor, g.Tensor, g.Tensor];
    const partition = g.sum(g.mul(g.mul(p0, p1), g.exp(p2)));
    const gappy = g.sum(g.mul(g.exp(p0), p2)); // rows 2..3 get no gradient
    for (const loss of [partition, gappy]) {
      const [gw] = g.grad(loss, [w]);
      const ops = opTypes({ gw: gw! });
      assert.equal(count(ops, "Pad") + count(ops, "Add"), 0, ops.join(" "));
      assert.equal(count(ops, "Concat"), 1);
      const { fast, slow } = await both({ loss, gw: gw! });
      assertClose(fast["gw"] as Float64Array, slow["gw"] as Float64Array, 1e-13, "gw");
    }
  });

  test("the weight gradient of linear is one product with transposed operands, no transposed result", async () => {
    const x = g.input("x", [3, 5, 4], "float64");
    const w = g.param("w", [6, 4], "float64");
    const y = g.linear(x, w);
    const [gw] = g.grad(g.sum(g.mul(y, y)), [w]);
    const model = onnx.ModelProto.decode(toOnnx({ gw: gw! }).bytes);
    const producer = new Map(model.graph!.node!.map((n) => [n.output![0]!, n.opType!]));
    assert.equal(producer.get("gw"), "MatMul", "gw comes straight out of a product");
    const { fast, slow } = await both({ gw: gw! });
    assertClose(fast["gw"] as Float64Array, slow["gw"] as Float64Array, 1e-13, "gw");
  });
});
