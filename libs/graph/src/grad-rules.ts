import { conv2d, convTranspose2d, type Pair } from "./conv.js";
import { isFloat } from "./dtype.js";
import { add, cast, div, equal, exp, greater, less, log, mul, neg, pow, sign, sub, where } from "./elementwise.js";
import { constant } from "./leaves.js";
import { matmul } from "./matmul.js";
import { pad, reshape, slice, transpose } from "./movement.js";
import { sum } from "./reduce.js";
import type { Tensor } from "./tensor.js";

/**
 * Vector-Jacobian product of one primitive: given the cotangent `g` of `node` (shape
 * node.shape), return one cotangent per input, or undefined where `wants[i]` is false or no
 * gradient flows. A returned cotangent may have the broadcast shape; the walker sums it back
 * to the input's shape (the only place un-broadcasting happens).
 */
export type GradRule = (g: Tensor, node: Tensor, wants: readonly boolean[]) => (Tensor | undefined)[];

/** Marks a primitive whose output carries no gradient (paths through it are pruned). */
export const NONDIFF = "nondiff" as const;

const lastTwo = (t: Tensor) =>
  transpose(
    t,
    [...t.shape.keys()].map((i) => (i < t.rank - 2 ? i : 2 * t.rank - 3 - i)),
  );
const keptShape = (node: Tensor, x: Tensor) => {
  const axes = node.attrs["axes"] as number[];
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
};

/** Cotangent of the weight of y = conv2d(x, w): a convolution of x by g with stride and dilation swapped. */
function convWeightGrad(x: Tensor, g: Tensor, wShape: readonly number[], attrs: Record<string, unknown>): Tensor {
  const stride = attrs["stride"] as [number, number];
  const dilation = attrs["dilation"] as [number, number];
  const r = conv2d(transpose(x, [1, 0, 2, 3]), transpose(g, [1, 0, 2, 3]), {
    stride: dilation as Pair,
    padding: attrs["padding"] as Pair,
    dilation: stride as Pair,
  });
  return transpose(slice(r, [0, 0], [wShape[2]!, wShape[3]!], [2, 3]), [1, 0, 2, 3]);
}

/** Cotangent of a strided slice: place g back at start + i*step, zeros elsewhere (via pad/reshape). */
function unslice(g: Tensor, x: Tensor, attrs: Record<string, unknown>): Tensor {
  const starts = attrs["starts"] as number[];
  const ends = attrs["ends"] as number[];
  const steps = attrs["steps"] as number[];
  let r = g;
  for (let a = 0; a < x.rank; a++) {
    const step = steps[a]!;
    if (step === 1) continue;
    const shape = [...r.shape];
    const m = shape[a]!;
    const spread = pad(
      reshape(r, [...shape.slice(0, a + 1), 1, ...shape.slice(a + 1)]),
      padAt(r.rank + 1, a + 1, 0, step - 1),
    );
    const len = Math.min(m * step, ends[a]! - starts[a]!);
    shape[a] = m * step;
    r = slice(reshape(spread, shape), [0], [len], [a]);
  }
  return pad(
    r,
    x.shape.map((d, a) => [starts[a]!, d - starts[a]! - r.shape[a]!] as [number, number]),
  );
}

function padAt(rank: number, axis: number, before: number, after: number): [number, number][] {
  return Array.from({ length: rank }, (_, i) => (i === axis ? [before, after] : [0, 0]));
}

const broadcastSafe = new WeakSet<GradRule>();

/**
 * Marks an elementwise rule: it stays correct when `g` only broadcasts to the node's shape, so
 * the walker hands it a deferred (smaller) cotangent as it is. Every other rule gets `g`
 * expanded to the node's shape first.
 */
const elementwise = (rule: GradRule): GradRule => {
  broadcastSafe.add(rule);
  return rule;
};

/** Whether `rule` was declared {@link elementwise} in the table. */
export function acceptsBroadcastCotangent(rule: GradRule): boolean {
  return broadcastSafe.has(rule);
}

/** THE table: one entry per primitive. Composites never appear here. */
export const gradRules: Record<string, GradRule | typeof NONDIFF> = {
  neg: elementwise((g) => [neg(g)]),
  exp: elementwise((g, y) => [mul(g, y)]),
  log: elementwise((g, y) => [div(g, y.inputs[0]!)]),
  sqrt: elementwise((g, y) => [div(g, mul(y, 2))]),
  reciprocal: elementwise((g, y) => [neg(mul(g, mul(y, y)))]),
  abs: elementwise((g, y) => [mul(g, sign(y.inputs[0]!))]),
  tanh: elementwise((g, y) => [mul(g, sub(1, mul(y, y)))]),
  // (2/√π)·e^(−x²) written as e^(ln(2/√π) − x²): one pass fewer over the tensor.
  erf: elementwise((g, y) => {
    const x = y.inputs[0]!;
    return [mul(g, exp(sub(Math.log(2 / Math.sqrt(Math.PI)), mul(x, x))))];
  }),
  relu: elementwise((g, y) => [where(greater(y.inputs[0]!, 0), g, 0)]),

  add: elementwise((g) => [g, g]),
  sub: elementwise((g, _y, w) => [g, w[1] ? neg(g) : undefined]),
  mul: elementwise((g, y, w) => [w[0] ? mul(g, y.inputs[1]!) : undefined, w[1] ? mul(g, y.inputs[0]!) : undefined]),
  div: elementwise((g, y, w) => {
    const b = y.inputs[1]!;
    return [w[0] ? div(g, b) : undefined, w[1] ? neg(mul(g, div(y, b))) : undefined];
  }),
  pow: elementwise((g, y, w) => {
    const [a, b] = y.inputs as [Tensor, Tensor];
    return [w[0] ? mul(g, mul(b, pow(a, sub(b, 1)))) : undefined, w[1] ? mul(g, mul(log(a), y)) : undefined];
  }),
  // Exact ties (a == b, everywhere on binary masks) give each side half the gradient, as
  // torch.maximum / torch.minimum do; it is also the central difference of either side at a tie.
  // Tested against PyTorch and differences in @exits/onnx tie-gradients.spec.ts.
  maximum: elementwise((g, y, w) => {
    const [a, b] = y.inputs as [Tensor, Tensor];
    const tie = mul(cast(equal(a, b), g.dtype), 0.5);
    return [
      w[0] ? mul(g, add(cast(greater(a, b), g.dtype), tie)) : undefined,
      w[1] ? mul(g, add(cast(less(a, b), g.dtype), tie)) : undefined,
    ];
  }),
  minimum: elementwise((g, y, w) => {
    const [a, b] = y.inputs as [Tensor, Tensor];
    const tie = mul(cast(equal(a, b), g.dtype), 0.5);
    return [
      w[0] ? mul(g, add(cast(less(a, b), g.dtype), tie)) : undefined,
      w[1] ? mul(g, add(cast(greater(a, b), g.dtype), tie)) : undefined,
    ];
  }),

  where: elementwise((g, y, w) => [
    undefined,
    w[1] ? where(y.inputs[0]!, g, 0) : undefined,
    w[2] ? where(y.inputs[0]!, 0, g) : undefined,
  ]),
  cast: elementwise((g, y) => [isFloat(y.inputs[0]!.dtype) ? cast(g, y.inputs[0]!.dtype) : undefined]),

  // Left un-expanded: the walker keeps cotangents that merely broadcast to the input's shape.
  sum: (g, y) => [reshape(g, keptShape(y, y.inputs[0]!))],
  // Tied maxima share the gradient evenly, 1/k each (torch.amax, and torch.max without a dim;
  // not torch.max(x, dim), which gives it all to one index). Tested in @exits/onnx tie-gradients.spec.ts.
  max: (g, y) => {
    const x = y.inputs[0]!;
    const kept = keptShape(y, x);
    const mask = cast(equal(x, reshape(y, kept)), x.dtype);
    return [mul(div(mask, sum(mask, y.attrs["axes"] as number[], true)), reshape(g, kept))];
  },

  matmul: (g, y, w) => {
    const [a, b] = y.inputs as [Tensor, Tensor];
    let gb: Tensor | undefined;
    if (w[1] && b.rank === 2 && a.rank > 2) {
      // A weight shared over the batch: one [k, rows] @ [rows, n] product instead of a batched
      // product followed by a reduction over the batch.
      const k = a.shape[a.rank - 1]!;
      gb = matmul(transpose(reshape(a, [-1, k]), [1, 0]), reshape(g, [-1, g.shape[g.rank - 1]!]));
    } else if (w[1]) gb = matmul(lastTwo(a), g);
    return [w[0] ? matmul(g, lastTwo(b)) : undefined, gb];
  },
  reshape: (g, y) => [reshape(g, y.inputs[0]!.shape)],
  transpose: (g, y) => {
    const perm = y.attrs["perm"] as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g, inv)];
  },
  slice: (g, y) => [unslice(g, y.inputs[0]!, y.attrs)],
  concat: (g, y, w) => {
    const axis = y.attrs["axis"] as number;
    let offset = 0;
    return y.inputs.map((x, i) => {
      const start = offset;
      offset += x.shape[axis]!;
      return w[i] ? slice(g, [start], [offset], [axis]) : undefined;
    });
  },
  pad: (g, y) => {
    const x = y.inputs[0]!;
    const pads = y.attrs["pads"] as [number, number][];
    return [
      slice(
        g,
        pads.map((p) => p[0]),
        pads.map((p, i) => p[0] + x.shape[i]!),
      ),
    ];
  },
  // Scatter-add written as a product with a one-hot matrix [k, n] (no scatter op needed).
  gather: (g, y) => {
    const [x, idx] = y.inputs as [Tensor, Tensor];
    const axis = y.attrs["axis"] as number;
    const n = x.shape[axis]!;
    const k = idx.size;
    const flat = reshape(idx, [k, 1]);
    const wrapped = where(less(flat, 0), add(flat, n), flat);
    const range = constant(
      Array.from({ length: n }, (_, i) => i),
      [1, n],
      "int64",
    );
    const oneHot = cast(equal(wrapped, range), g.dtype);
    const pre = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const post = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const gt = transpose(reshape(g, [pre, k, post]), [0, 2, 1]);
    return [reshape(transpose(matmul(gt, oneHot), [0, 2, 1]), x.shape), undefined];
  },
  expand: elementwise((g) => [g]),

  conv2d: (g, y, w) => {
    const [x, wt] = y.inputs as [Tensor, Tensor];
    const stride = y.attrs["stride"] as [number, number];
    const padding = y.attrs["padding"] as [number, number];
    const dilation = y.attrs["dilation"] as [number, number];
    const outputPadding = [2, 3].map(
      (a, j) =>
        x.shape[a]! - ((g.shape[a]! - 1) * stride[j]! - 2 * padding[j]! + dilation[j]! * (wt.shape[a]! - 1) + 1),
    ) as [number, number];
    return [
      w[0] ? convTranspose2d(g, wt, { stride, padding, dilation, outputPadding }) : undefined,
      w[1] ? convWeightGrad(x, g, wt.shape, y.attrs) : undefined,
    ];
  },
  // convTranspose2d(., w) is the adjoint of conv2d(., w): its gradients are the conv's.
  convTranspose2d: (g, y, w) => {
    const [x, wt] = y.inputs as [Tensor, Tensor];
    const attrs = { stride: y.attrs["stride"], padding: y.attrs["padding"], dilation: y.attrs["dilation"] };
    return [
      w[0] ? conv2d(g, wt, attrs as Record<string, Pair>) : undefined,
      w[1] ? convWeightGrad(g, x, wt.shape, attrs) : undefined,
    ];
  },

  sign: NONDIFF,
  stopGradient: NONDIFF,
  less: NONDIFF,
  lessEqual: NONDIFF,
  greater: NONDIFF,
  greaterEqual: NONDIFF,
  equal: NONDIFF,
  logicalAnd: NONDIFF,
  logicalOr: NONDIFF,
  logicalNot: NONDIFF,
  argmax: NONDIFF,
};
