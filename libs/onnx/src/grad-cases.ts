// Test support only: the gradient-check cases, one or more per primitive and composite.
import * as g from "@exits/graph";
import type { GradCase } from "./grad-check.js";

const pos = (u: () => number) => 0.5 + 1.5 * u();
const awayZero = (u: () => number) => (u() < 0.5 ? -1 : 1) * (0.2 + 0.8 * u());
const f32 = "float32" as const;
const cycle = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

// float32 cases: ORT CPU has no float64 Erf/Conv kernels. Conv losses are linear in each
// operand, so a central difference is exact for any eps: a large eps (0.5) leaves only
// float32 rounding of the outputs (~1e-7 relative), hence atol/rtol 1e-4. Erf is smooth:
// eps 1e-2 gives truncation ~eps²·|erf'''|/6 ≈ 4e-5 plus rounding ≈ 6e-6, hence atol 2e-4.
const erfTol = { eps: 1e-2, atol: 2e-4, rtol: 1e-3 };
const convTol = { eps: 0.5, atol: 1e-4, rtol: 1e-4 };

const unary = (name: string, op: (x: g.Tensor) => g.Tensor, gen?: (u: () => number) => number): GradCase => ({
  name,
  inputs: [{ shape: [2, 3], gen }],
  build: ([x]) => op(x!),
});

export const primitiveCases: GradCase[] = [
  unary("neg", g.neg),
  unary("exp", g.exp),
  unary("log", g.log, pos),
  unary("sqrt", g.sqrt, pos),
  unary("reciprocal", g.reciprocal, pos),
  unary("abs", g.abs, awayZero),
  unary("tanh", g.tanh),
  unary("relu", g.relu, awayZero),
  { name: "erf (float32)", inputs: [{ shape: [2, 3], dtype: f32 }], build: ([x]) => g.erf(x!), ...erfTol },
  {
    name: "add broadcast [2,3,4]+[3,1]",
    inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }],
    build: ([a, b]) => g.add(a!, b!),
  },
  {
    name: "sub broadcast [4]-[2,3,4]",
    inputs: [{ shape: [4] }, { shape: [2, 3, 4] }],
    build: ([a, b]) => g.sub(a!, b!),
  },
  {
    name: "mul broadcast [2,1,4]*[3,1]",
    inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }],
    build: ([a, b]) => g.mul(a!, b!),
  },
  {
    name: "div broadcast [2,3]/[3]",
    inputs: [{ shape: [2, 3] }, { shape: [3], gen: pos }],
    build: ([a, b]) => g.div(a!, b!),
  },
  { name: "pow [2,3]^[3]", inputs: [{ shape: [2, 3], gen: pos }, { shape: [3] }], build: ([a, b]) => g.pow(a!, b!) },
  { name: "pow by a number", inputs: [{ shape: [2, 3], gen: pos }], build: ([a]) => g.pow(a!, 3) },
  {
    name: "maximum [2,3,4] vs [4]",
    inputs: [{ shape: [2, 3, 4] }, { shape: [4] }],
    build: ([a, b]) => g.maximum(a!, b!),
  },
  {
    name: "minimum [3,1] vs [1,4]",
    inputs: [{ shape: [3, 1] }, { shape: [1, 4] }],
    build: ([a, b]) => g.minimum(a!, b!),
  },
  {
    name: "where broadcast",
    inputs: [
      { shape: [2, 3], dtype: "bool", values: Uint8Array.of(1, 0, 0, 1, 1, 0) },
      { shape: [2, 3] },
      { shape: [3] },
    ],
    build: ([c, a, b]) => g.where(c!, a!, b!),
  },
  {
    name: "cast float64 -> float32 -> float64",
    inputs: [{ shape: [2, 3] }],
    build: ([x]) => g.cast(g.mul(g.cast(x!, "float32"), 3), "float64"),
    eps: 1e-3,
    atol: 2e-4,
    rtol: 1e-3,
  },
  { name: "sum axes [0,2]", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.sum(x!, [0, 2]) },
  { name: "sum keepdims axis 1", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.sum(x!, 1, true) },
  { name: "sum all", inputs: [{ shape: [2, 3] }], build: ([x]) => g.sum(x!) },
  { name: "max axis 1", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.max(x!, 1) },
  { name: "max all keepdims", inputs: [{ shape: [3, 4] }], build: ([x]) => g.max(x!, undefined, true) },
  {
    name: "matmul [2,3,4]@[4,5]",
    inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }],
    build: ([a, b]) => g.matmul(a!, b!),
  },
  {
    name: "matmul [2,1,3,4]@[3,4,2]",
    inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }],
    build: ([a, b]) => g.matmul(a!, b!),
  },
  {
    name: "matmul [3,4]@[2,4,5]",
    inputs: [{ shape: [3, 4] }, { shape: [2, 4, 5] }],
    build: ([a, b]) => g.matmul(a!, b!),
  },
  { name: "reshape", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.reshape(x!, [6, -1]) },
  { name: "transpose", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.transpose(x!, [2, 0, 1]) },
  {
    name: "slice with steps and negative start",
    inputs: [{ shape: [5, 6] }],
    build: ([x]) => g.slice(x!, [1, -4], [5, 6], [0, 1], [2, 1]),
  },
  { name: "slice step 3", inputs: [{ shape: [2, 8] }], build: ([x]) => g.slice(x!, [1], [8], [1], [3]) },
  {
    name: "concat three",
    inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }],
    build: ([a, b, c]) => g.concat([a!, b!, c!], 1),
  },
  {
    name: "pad",
    inputs: [{ shape: [2, 3] }],
    build: ([x]) =>
      g.pad(
        x!,
        [
          [1, 0],
          [2, 1],
        ],
        0.5,
      ),
  },
  {
    name: "gather axis 0 (repeated, negative)",
    inputs: [{ shape: [5, 3] }, { shape: [2, 2], dtype: "int64", values: BigInt64Array.of(0n, 4n, -1n, 0n) }],
    build: ([x, i]) => g.gather(x!, i!, 0),
  },
  {
    name: "gather axis 1",
    inputs: [{ shape: [2, 4, 3] }, { shape: [3], dtype: "int64", values: BigInt64Array.of(2n, 0n, 2n) }],
    build: ([x, i]) => g.gather(x!, i!, 1),
  },
  { name: "expand [3,1] -> [2,3,4]", inputs: [{ shape: [3, 1] }], build: ([x]) => g.expand(x!, [2, 3, 4]) },
  {
    name: "conv2d stride 2 pad 1 (float32)",
    inputs: [
      { shape: [2, 3, 7, 6], dtype: f32 },
      { shape: [4, 3, 3, 2], dtype: f32 },
    ],
    build: ([x, w]) => g.conv2d(x!, w!, { stride: 2, padding: 1 }),
    ...convTol,
  },
  {
    name: "conv2d dilation 2 (float32)",
    inputs: [
      { shape: [1, 2, 6, 7], dtype: f32 },
      { shape: [3, 2, 2, 3], dtype: f32 },
    ],
    build: ([x, w]) => g.conv2d(x!, w!, { dilation: 2, padding: [0, 1] }),
    ...convTol,
  },
  {
    name: "convTranspose2d stride 2 outputPadding 1 (float32)",
    inputs: [
      { shape: [2, 4, 3, 3], dtype: f32 },
      { shape: [4, 3, 3, 3], dtype: f32 },
    ],
    build: ([x, w]) => g.convTranspose2d(x!, w!, { stride: 2, padding: 1, outputPadding: 1 }),
    ...convTol,
  },
];

export const structureCases: GradCase[] = [
  {
    name: "fan-out: x used three times",
    inputs: [{ shape: [2, 3] }],
    build: ([x]) => g.add(g.mul(x!, g.exp(x!)), g.sum(x!, 0, true)),
  },
  {
    name: "shared sub-expression through two paths",
    inputs: [{ shape: [3] }, { shape: [2, 3] }],
    build: ([a, b]) => {
      const s = g.mul(a!, b!);
      return g.concat([g.tanh(s), g.mul(s, s)], 0);
    },
  },
  {
    name: "deferred expansion: sum cotangent into matmul and reshape",
    inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }],
    build: ([a, b]) => g.add(g.sum(g.matmul(a!, b!), -1, true), g.sum(g.reshape(a!, [6, 4]), 0)),
  },
  {
    name: "deferred expansion: broadcast cotangent reaches a leaf",
    inputs: [{ shape: [3, 4] }],
    build: ([x]) => g.mul(g.sum(g.exp(x!), 0, true), g.max(x!, 1, true)),
  },
];

export const compositeCases: GradCase[] = [
  { name: "softmax", inputs: [{ shape: [2, 5] }], build: ([x]) => g.softmax(x!, -1) },
  { name: "logSoftmax axis 0", inputs: [{ shape: [4, 3] }], build: ([x]) => g.logSoftmax(x!, 0) },
  { name: "mean", inputs: [{ shape: [2, 3, 4] }], build: ([x]) => g.mean(x!, [1, 2], true) },
  {
    name: "layerNorm",
    inputs: [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }],
    build: ([x, w, b]) => g.layerNorm(x!, w!, b!, 1e-5),
  },
  { name: "sigmoid", inputs: [{ shape: [2, 3], gen: (u) => 8 * u() - 4 }], build: ([x]) => g.sigmoid(x!) },
  {
    name: "sigmoid at 0 and in the tails",
    inputs: [{ shape: [6], gen: cycle([0, -15, 15, -3, 2.5, 1e-3]) }],
    build: ([x]) => g.sigmoid(x!),
  },
  { name: "softplus", inputs: [{ shape: [2, 3], gen: awayZero }], build: ([x]) => g.softplus(x!) },
  { name: "gelu (float32: erf)", inputs: [{ shape: [2, 3], dtype: f32 }], build: ([x]) => g.gelu(x!), ...erfTol },
  {
    name: "attention",
    inputs: [{ shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }],
    build: ([q, k, v]) => g.attention(q!, k!, v!).out,
  },
  {
    name: "multi-head self-attention (out and probs)",
    inputs: [{ shape: [2, 3, 4] }, { shape: [12, 4] }, { shape: [12] }, { shape: [4, 4] }, { shape: [4] }],
    build: ([x, qw, qb, pw, pb]) => {
      const r = g.multiHeadSelfAttention(x!, { qkvWeight: qw!, qkvBias: qb!, projWeight: pw!, projBias: pb! }, 2);
      return g.concat([g.reshape(r.out, [-1]), g.reshape(r.probs, [-1])], 0);
    },
  },
  { name: "avgPool2d tiling", inputs: [{ shape: [1, 2, 4, 6] }], build: ([x]) => g.avgPool2d(x!, 2) },
  { name: "avgPool2d k3 s2 p1", inputs: [{ shape: [1, 2, 5, 6] }], build: ([x]) => g.avgPool2d(x!, 3, 2, 1) },
  { name: "maxPool2d tiling", inputs: [{ shape: [1, 2, 4, 6] }], build: ([x]) => g.maxPool2d(x!, 2) },
  { name: "maxPool2d k3 s2 p1", inputs: [{ shape: [1, 2, 5, 6] }], build: ([x]) => g.maxPool2d(x!, 3, 2, 1) },
  { name: "resizeBilinear up/down", inputs: [{ shape: [1, 2, 4, 5] }], build: ([x]) => g.resizeBilinear(x!, 7, 3) },
  {
    name: "diceLoss",
    inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 4], gen: (u) => u() }],
    build: ([x, t]) => g.diceLoss(g.sigmoid(x!), t!),
  },
];
