import assert from "node:assert/strict";
import { test } from "node:test";
import * as g from "@exits/graph";
import { toOnnx } from "./lower.js";
import { compile, rng } from "./ort-harness.js";
import { onnx } from "./proto.js";

const random = (n: number, seed: number, lo = -1, hi = 1) => {
  const u = rng(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * u());
};
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

function buildSmall() {
  const x = g.input("x", [2, 3]);
  const w = g.param("w", [4, 3]);
  const y = g.softmax(g.linear(x, w, g.constant([1, 2, 3, 4], [4])), -1);
  return { y: g.add(y, g.constant([1, 2, 3, 4], [4])) };
}

test("model header: IR 9, opset 20; same build gives identical bytes; constants deduplicated", () => {
  const a = toOnnx(buildSmall());
  const b = toOnnx(buildSmall());
  assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
  const model = onnx.ModelProto.decode(a.bytes);
  assert.equal(Number(model.irVersion), 9);
  assert.equal(Number(model.opsetImport?.[0]?.version), 20);
  const graph = model.graph!;
  const inits = (graph.initializer ?? []).filter(
    (t) => t.dims?.length === 1 && Number(t.dims[0]) === 4 && t.dataType === 1,
  );
  assert.equal(inits.length, 1, "the two [1,2,3,4] constants share one initializer");
  assert.deepEqual(
    a.inputs.map((i) => i.name),
    ["x", "param:w"],
  );
  assert.ok((graph.node ?? []).every((n, i) => n.name === `${n.opType}_${i}`));
});

test("params as initializers or as inputs compute the same", async () => {
  const w = Float32Array.from(random(12, 1));
  const x = Float32Array.from(random(6, 2));
  const asInputs = await compile(buildSmall());
  const baked = await compile(buildSmall(), { params: "initializers", paramValues: { w } });
  assert.deepEqual(
    baked.inputs.map((i) => i.name),
    ["x"],
  );
  const r1 = await asInputs.run({ x, "param:w": w });
  const r2 = await baked.run({ x });
  close(r1["y"] as Float32Array, r2["y"] as Float32Array, 0);
  assert.throws(() => toOnnx(buildSmall(), { params: "initializers" }), /no value for param "w"/);
});

test("outputs that are leaves or repeated get Identity nodes; int64 and bool flow", async () => {
  const x = g.input("x", [2, 3], "float64");
  const idx = g.argmax(x, 1);
  const mask = g.greater(x, 0);
  const c = await compile({ x, again: x, idx, mask, picked: g.gather(x, idx, 1) });
  const xv = Float64Array.of(1, 5, 2, -3, -1, -2);
  const r = await c.run({ x: xv });
  close(r["again"] as Float64Array, xv, 0);
  assert.deepEqual(Array.from(r["idx"] as BigInt64Array), [1n, 1n]);
  assert.deepEqual(Array.from(r["mask"] as Uint8Array, Number), [1, 1, 1, 0, 0, 0]);
  close(r["picked"] as Float64Array, [5, 5, -1, -1], 0);
});

test("stopGradient: d/dx Σ sg(x)·x·r = x·r, not 2·x·r", async () => {
  const x = g.input("x", [4], "float64");
  const r = g.constant([1, -2, 3, 0.5], [4], "float64");
  const [gx] = g.grad(g.sum(g.mul(g.mul(g.stopGradient(x), x), r)), [x]);
  const out = await (await compile({ gx: gx! })).run({ x: Float64Array.of(1, 2, 3, 4) });
  close(out["gx"] as Float64Array, [1, -4, 9, 2], 1e-12);
});

/** Direct-loop convolution reference in float64 (im2col-free, no shared code with the graph). */
function convRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], s: number, p: number, d: number) {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, , kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * p - d * (kh - 1) - 1) / s) + 1;
  const ow = Math.floor((wd + 2 * p - d * (kw - 1) - 1) / s) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let f = 0; f < o; f++)
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          let acc = 0;
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const yy = y * s - p + i * d;
                const zz = z * s - p + j * d;
                if (yy < 0 || zz < 0 || yy >= h || zz >= wd) continue;
                acc += x[((b * c + ch) * h + yy) * wd + zz]! * w[((f * c + ch) * kh + i) * kw + j]!;
              }
          out[((b * o + f) * oh + y) * ow + z] = acc;
        }
  return out;
}

test("conv2d matches a direct float64 reference (float32 kernel in ORT)", async () => {
  const xs = [2, 3, 9, 8];
  const ws = [4, 3, 3, 3];
  const x = random(2 * 3 * 9 * 8, 3);
  const w = random(4 * 3 * 3 * 3, 4);
  const xt = g.input("x", xs, "float64");
  const wt = g.input("w", ws, "float64");
  const c = await compile({ y: g.conv2d(xt, wt, { stride: 2, padding: 1, dilation: 2 }) });
  const r = await c.run({ x, w });
  close(r["y"] as Float64Array, convRef(x, xs, w, ws, 2, 1, 2), 1e-5);
});

test("resizeBilinear matches torch's align_corners=False sampling", async () => {
  const [h, w, oh, ow] = [3, 4, 5, 2];
  const x = random(h * w, 5);
  const c = await compile({ y: g.resizeBilinear(g.input("x", [1, 1, h, w], "float64"), oh, ow) });
  const y = (await c.run({ x }))["y"] as Float64Array;
  const src = (o: number, inS: number, outS: number) => Math.max(((o + 0.5) * inS) / outS - 0.5, 0);
  const expected: number[] = [];
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      const sy = src(i, h, oh);
      const sx = src(j, w, ow);
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const y1 = Math.min(y0 + 1, h - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const ly = sy - y0;
      const lx = sx - x0;
      const at = (a: number, b: number) => x[a * w + b]!;
      expected.push(
        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1)),
      );
    }
  close(y, expected, 1e-12);
});

test("pooling, softmax and layerNorm forward values", async () => {
  const xv = random(1 * 1 * 5 * 5, 6);
  const x = g.input("x", [1, 1, 5, 5], "float64");
  const c = await compile({
    avg: g.avgPool2d(x, 3, 2, 1),
    max: g.maxPool2d(x, 3, 2, 1),
    sm: g.softmax(x, -1),
    ln: g.layerNorm(x, undefined, undefined, 1e-5),
  });
  const r = await c.run({ x: xv });
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= 5 || j >= 5 ? null : xv[i * 5 + j]!);
  const avg: number[] = [];
  const max: number[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      let m = -Infinity;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) {
          const v = at(2 * i - 1 + a, 2 * j - 1 + b);
          if (v !== null) {
            s += v;
            m = Math.max(m, v);
          }
        }
      avg.push(s / 9);
      max.push(m);
    }
  close(r["avg"] as Float64Array, avg, 1e-12);
  close(r["max"] as Float64Array, max, 0);
  const sm = r["sm"] as Float64Array;
  const ln = r["ln"] as Float64Array;
  for (let row = 0; row < 5; row++) {
    const vals = Array.from(xv.subarray(row * 5, row * 5 + 5));
    const e = vals.map((v) => Math.exp(v));
    const z = e.reduce((a, b) => a + b, 0);
    close(
      sm.subarray(row * 5, row * 5 + 5),
      e.map((v) => v / z),
      1e-12,
    );
    const mu = vals.reduce((a, b) => a + b, 0) / 5;
    const variance = vals.reduce((a, v) => a + (v - mu) ** 2, 0) / 5;
    // LayerNormalization (the optimised lowering) accumulates x and x² in one pass: ~1e-13.
    close(
      ln.subarray(row * 5, row * 5 + 5),
      vals.map((v) => (v - mu) / Math.sqrt(variance + 1e-5)),
      1e-11,
    );
  }
});

test("external data: large initializers go to a side file that ORT loads from the model's folder", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const ort = await import("onnxruntime-node");
  const w = Float32Array.from(random(64 * 32, 9));
  const x = g.input("x", [2, 32]);
  const outputs = { y: g.matmul(x, g.transpose(g.param("w", [64, 32]), [1, 0])) };
  const model = toOnnx(outputs, {
    params: "initializers",
    paramValues: { w },
    externalData: { location: "weights.bin" },
  });
  assert.ok(model.external && model.external.bytes.length >= w.byteLength);
  assert.ok(model.bytes.length < w.byteLength, "the protobuf no longer holds the weights");
  const dir = mkdtempSync(join(tmpdir(), "exits-onnx-"));
  try {
    writeFileSync(join(dir, "model.onnx"), model.bytes);
    writeFileSync(join(dir, "weights.bin"), model.external.bytes);
    const session = await ort.InferenceSession.create(join(dir, "model.onnx"));
    const xv = Float32Array.from(random(64, 10));
    const got = (await session.run({ x: new ort.Tensor("float32", xv, [2, 32]) }))["y"]!.data as Float32Array;
    const inline = await compile(outputs, { params: "initializers", paramValues: { w } });
    close(got, (await inline.run({ x: xv }))["y"] as Float32Array, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("int64 and bool graphs run (arithmetic, reductions, logic, movement)", async () => {
  const i = g.input("i", [2, 3], "int64");
  const b = g.input("b", [2, 3], "bool");
  const c = await compile({
    arith: g.sub(g.mul(g.add(i, 2), i), g.abs(g.neg(i))),
    rowsum: g.sum(i, 1),
    colmax: g.max(i, 0),
    sgn: g.sign(i),
    logic: g.logicalOr(g.logicalAnd(b, g.less(i, 2)), g.logicalNot(g.greaterEqual(i, 0))),
    pick: g.where(b, i, g.full([3], 7, "int64")),
    moved: g.concat(
      [
        g.slice(i, [1], [3], [1]),
        g.pad(
          i,
          [
            [0, 0],
            [1, 0],
          ],
          -1,
        ),
      ],
      1,
    ),
    asFloat: g.cast(i, "float32"),
  });
  const r = await c.run({ i: BigInt64Array.of(-2n, 0n, 3n, 1n, 5n, -4n), b: Uint8Array.of(1, 0, 1, 0, 1, 1) });
  assert.deepEqual(Array.from(r["arith"] as BigInt64Array), [-2n, 0n, 12n, 2n, 30n, 4n]);
  assert.deepEqual(Array.from(r["rowsum"] as BigInt64Array), [1n, 2n]);
  assert.deepEqual(Array.from(r["colmax"] as BigInt64Array), [1n, 5n, 3n]);
  assert.deepEqual(Array.from(r["sgn"] as BigInt64Array), [-1n, 0n, 1n, 1n, 1n, -1n]);
  assert.deepEqual(Array.from(r["logic"] as Uint8Array, Number), [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(r["pick"] as BigInt64Array), [-2n, 7n, 3n, 7n, 5n, -4n]);
  assert.deepEqual(Array.from(r["moved"] as BigInt64Array), [0n, 3n, -1n, -2n, 0n, 3n, 5n, -4n, -1n, 1n, 5n, -4n]);
  assert.deepEqual(Array.from(r["asFloat"] as Float32Array), [-2, 0, 3, 1, 5, -4]);
});

test("sigmoid keeps relative precision of value and gradient in float32 tails", async () => {
  const xs = [-30, -15, -8, -1, 0, 1, 8, 15];
  const x = g.input("x", [xs.length]);
  const s = g.sigmoid(x);
  const [gx] = g.grad(g.sum(s), [x]);
  const r = await (await compile({ s, gx: gx! })).run({ x: Float32Array.from(xs) });
  xs.forEach((v, i) => {
    const ref = 1 / (1 + Math.exp(-v));
    const dref = ref * (1 - ref);
    const got = (r["s"] as Float32Array)[i]!;
    const dgot = (r["gx"] as Float32Array)[i]!;
    assert.ok(Math.abs(got - ref) <= 1e-6 * ref, `s(${v}) = ${got}, expected ${ref}`);
    assert.ok(Math.abs(dgot - dref) <= 1e-5 * dref, `s'(${v}) = ${dgot}, expected ${dref}`);
  });
});
