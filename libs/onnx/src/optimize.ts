import {
  add,
  concat,
  constant,
  exp,
  full,
  matmul,
  mean,
  mul,
  neg,
  type Region,
  regionGradient,
  reshape,
  sub,
  sum,
  type Tensor,
  Tensor as TensorNode,
  topoSort,
  transpose,
} from "@exits/graph";
import { consumers, rebuild, type Substitution } from "./rebuild.js";

/** ln(1/√(2π)): the standard normal density is e^(ln c − x²/2). */
const LN_INV_SQRT_2PI = -0.5 * Math.log(2 * Math.PI);

/** Permutation swapping the last two axes. */
const swapLast = (rank: number) => Array.from({ length: rank }, (_, i) => (i < rank - 2 ? i : 2 * rank - 3 - i));

/** Whether `t` is `v` with its last two axes swapped (possibly folded into one transpose of v's input). */
function isSwapLastOf(t: Tensor, v: Tensor): boolean {
  if (t.op !== "transpose") return false;
  const perm = t.attrs["perm"] as number[];
  const sw = swapLast(t.rank);
  if (t.inputs[0] === v) return perm.every((a, i) => a === sw[i]);
  if (v.op !== "transpose" || t.inputs[0] !== v.inputs[0]) return false;
  const inner = v.attrs["perm"] as number[];
  return perm.every((a, i) => a === inner[sw[i]!]);
}

/**
 * The algebraically simplified backward of a composite, written with the same primitives:
 * the cotangent of `region.inputs[input]` from `g`, the cotangent of the region's output.
 * `deps` are the (original) tensors the expression reads; `users` are the original graph's.
 */
type SimplifiedBackward = (
  region: Region,
  input: number,
  g: Tensor,
  users: ReadonlyMap<Tensor, Tensor[]>,
) => Substitution | undefined;

/**
 * Softmax feeding o = y @ v (attention) whose cotangent is exactly ȳ = ō @ vᵀ (the matmul
 * rule's): Σⱼ ȳᵢⱼ yᵢⱼ = ōᵢ · oᵢ, a reduction over the head dim instead of the rows, and
 * x̄ = y ⊙ (ȳ − s) = y ⊙ ([ō, −s] @ [v, 1]ᵀ): the subtraction rides in the matmul (one more
 * inner index), so only one pass over the [.., T, T] tensor remains.
 */
function attentionSoftmaxBackward(
  y: Tensor,
  axis: number,
  gy: Tensor,
  users: ReadonlyMap<Tensor, Tensor[]>,
): Substitution | undefined {
  if (axis !== y.rank - 1 || gy.op !== "matmul") return undefined;
  // ȳ is one matmul node, so it is the whole cotangent: a single use of y contributed to it.
  const [go, vT] = gy.inputs as [Tensor, Tensor];
  const o = (users.get(y) ?? []).find(
    (u) =>
      u.op === "matmul" && u.inputs[0] === y && isSwapLastOf(vT, u.inputs[1]!) && u.shape.join() === go.shape.join(),
  );
  if (!o) return undefined;
  const v = o.inputs[1]!;
  return {
    deps: [go, o, v, y],
    build: ([gO, out, val, p]) => {
      const s = sum(mul(gO!, out!), -1, true);
      const ones = full([...val!.shape.slice(0, -1), 1], 1, val!.dtype);
      const lhs = concat([gO!, neg(s)], -1);
      const rhs = concat([val!, ones], -1);
      return mul(p!, matmul(lhs, transpose(rhs, swapLast(rhs.rank))));
    },
  };
}

const simplifiedBackward: Record<string, SimplifiedBackward> = {
  // y = softmax(x): x̄ = y ⊙ (ȳ − Σ ȳ ⊙ y) — 4 passes instead of the derived e/Σe chain.
  softmax: (region, _input, g, users) => {
    const axis = region.attrs["axis"] as number;
    const attention = attentionSoftmaxBackward(region.output!, axis, g, users);
    if (attention) return attention;
    return {
      deps: [g, region.output!],
      build: ([gy, y]) => mul(y!, sub(gy!, sum(mul(gy!, y!), axis, true))),
    };
  },
  // y = (x − μ)·r, r = 1/√(σ² + ε): x̄ = r ⊙ (ȳ − mean ȳ − y ⊙ mean(ȳ ⊙ y)).
  layerNorm: (region, _input, g) => {
    const rstd = region.parts["rstd"];
    if (!rstd) return undefined;
    return {
      deps: [g, region.output!, rstd],
      build: ([gy, y, r]) => mul(sub(sub(gy!, mean(gy!, -1, true)), mul(y!, mean(mul(gy!, y!), -1, true))), r!),
    };
  },
  // y = x·Φ(x): x̄ = ȳ ⊙ (Φ(x) + x·φ(x)), φ(x) = e^(ln c − u²) with u = x/√2; Φ(x) and u are
  // the forward's values (6 passes).
  gelu: (region, _input, g) => {
    const { cdf, u } = region.parts;
    if (!cdf || !u) return undefined;
    return {
      deps: [g, region.inputs[0]!, cdf, u],
      build: ([gy, x, c, h]) => mul(gy!, add(c!, mul(x!, exp(sub(LN_INV_SQRT_2PI, mul(h!, h!)))))),
    };
  },
};

/**
 * swapLast(a @ b), the only use of the product, becomes swapLast(b) @ swapLast(a), where the
 * builders fold away transposes already on a or b: e.g. the weight gradient of `linear`
 * (gradient of wᵀ, then transposed) becomes one product with a transposed operand, which ONNX
 * Runtime runs as FusedMatMul without materialising anything.
 */
function transposedProduct(t: Tensor, users: ReadonlyMap<Tensor, Tensor[]>, subst: Map<Tensor, Substitution>): void {
  if (t.op !== "transpose" || t.rank < 2) return;
  const product = t.inputs[0]!;
  const sw = swapLast(t.rank);
  if (product.op !== "matmul" || !(t.attrs["perm"] as number[]).every((a, i) => a === sw[i])) return;
  const [a, b] = product.inputs as [Tensor, Tensor];
  if ((users.get(product) ?? []).length !== 1 || a.rank !== b.rank) return;
  if (a.op !== "transpose" && b.op !== "transpose") return;
  subst.set(t, {
    deps: [a, b],
    build: ([a2, b2]) => matmul(transpose(b2!, swapLast(b2!.rank)), transpose(a2!, swapLast(a2!.rank))),
  });
}

/**
 * A sum over the leading axes of a float tensor (bias and layer-norm gradients: [B, T, C] →
 * [C]) becomes ones[1, R] @ x[R, C]: MLAS streams it about twice as fast as ReduceSum over
 * non-trailing axes. Reductions over fewer than `MIN_ROWS` rows are left alone.
 */
function leadingSum(t: Tensor, subst: Map<Tensor, Substitution>): void {
  if (t.op !== "sum" || t.dtype === "int64") return;
  const x = t.inputs[0]!;
  const axes = t.attrs["axes"] as number[];
  const k = axes.length;
  if (k === 0 || k >= x.rank || !axes.every((a, i) => a === i)) return;
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  if (rows < MIN_ROWS) return;
  const cols = x.size / rows;
  subst.set(t, {
    deps: [x],
    build: ([x2]) => {
      const ones = x2!.dtype === "float64" ? new Float64Array(rows).fill(1) : new Float32Array(rows).fill(1);
      return reshape(matmul(constant(ones, [1, rows], x2!.dtype), reshape(x2!, [rows, cols])), t.shape);
    },
  });
}
const MIN_ROWS = 64;

/** A tensor that is a sum of zero-padded pieces along one axis (disjoint), e.g. slice gradients. */
interface Pieces {
  axis: number;
  parts: { start: number; x: Tensor }[];
}

/**
 * pad(a) + pad(b) + ... with disjoint zero paddings along one axis — the gradient of slices
 * that partition a tensor (qkv weight, bias and activation) — becomes one Concat (gaps filled
 * with zeros): one pass instead of a padded copy per piece and an addition per join.
 */
function piecewiseSum(t: Tensor, memo: Map<Tensor, Pieces>, subst: Map<Tensor, Substitution>): void {
  let pieces: Pieces | undefined;
  if (t.op === "pad" && t.attrs["value"] === 0) {
    const pads = t.attrs["pads"] as [number, number][];
    const axes = pads.flatMap((p, i) => (p[0] !== 0 || p[1] !== 0 ? [i] : []));
    if (axes.length === 1) pieces = { axis: axes[0]!, parts: [{ start: pads[axes[0]!]![0], x: t.inputs[0]! }] };
  } else if (t.op === "add" && t.inputs.every((x) => x.shape.join() === t.shape.join())) {
    const [a, b] = t.inputs.map((x) => memo.get(x));
    if (a && b && a.axis === b.axis) {
      const parts = [...a.parts, ...b.parts].sort((p, q) => p.start - q.start);
      const len = (p: { x: Tensor }) => p.x.shape[a.axis]!;
      if (parts.every((p, i) => i === 0 || parts[i - 1]!.start + len(parts[i - 1]!) <= p.start)) {
        pieces = { axis: a.axis, parts };
        const axis = a.axis;
        subst.set(t, {
          deps: parts.map((p) => p.x),
          build: (xs) => {
            const chunks: Tensor[] = [];
            let at = 0;
            const gap = (to: number) => {
              if (to > at)
                chunks.push(
                  full(
                    t.shape.map((d, i) => (i === axis ? to - at : d)),
                    0,
                    t.dtype,
                  ),
                );
            };
            parts.forEach((p, i) => {
              gap(p.start);
              chunks.push(xs[i]!);
              at = p.start + len(p);
            });
            gap(t.shape[axis]!);
            return concat(chunks, axis);
          },
        });
      }
    }
  }
  if (pieces) memo.set(t, pieces);
}

/** Lowering-only nodes (`onnx.*` ops): produced here, emitted by the op table, never differentiated. */
const fused = (op: string, inputs: Tensor[], attrs: Record<string, unknown>, like: Tensor) =>
  new TensorNode(op, inputs, attrs, like.shape, like.dtype, undefined);

interface Fusion {
  /** Internal values of the region that the fused op can still provide (by name). */
  provides?: readonly string[];
  /** Whether the region can be fused for this dtype / shape. */
  accepts?: (region: Region, output: Tensor) => boolean;
  build: (region: Region, inputs: Tensor[], provided: ReadonlySet<string>) => Tensor;
}

const fusedForward: Record<string, Fusion> = {
  softmax: { build: (r, [x]) => fused("onnx.softmax", [x!], { axis: r.attrs["axis"] }, x!) },
  layerNorm: {
    provides: ["rstd"],
    build: (r, ins, provided) =>
      fused("onnx.layerNorm", ins, { epsilon: r.attrs["eps"], invStd: provided.has("rstd") }, ins[0]!),
  },
  // ORT's CPU Gelu kernel is float32 only.
  gelu: { accepts: (_r, y) => y.dtype === "float32", build: (_r, [x]) => fused("onnx.gelu", [x!], {}, x!) },
};

/**
 * Graph optimisations applied before emission; every rewrite preserves values exactly in real
 * arithmetic (float results differ by rounding only):
 *
 * 1. the derived backward of a composite region (see `regionGradient` in @exits/graph) is
 *    replaced by its simplified closed form (softmax — with the attention form when it feeds
 *    `y @ v` —, layer norm, GELU); transposed products are reordered (`transposedProduct`) and
 *    sums over leading axes become products with ones (`leadingSum`), sums of disjoint
 *    zero-padded pieces become one Concat (`piecewiseSum`);
 * 2. a region whose internal values feed nothing outside it becomes one native ONNX op
 *    (Softmax, LayerNormalization — folding a following per-feature scale and shift — Gelu).
 */
export function optimizeGraph(outputs: Record<string, Tensor>): Record<string, Tensor> {
  const keys = Object.keys(outputs);
  const roots0 = keys.map((k) => outputs[k]!);

  const order0 = topoSort(roots0);
  const users0 = consumers(roots0, order0);
  const backward = new Map<Tensor, Substitution>();
  const pieces = new Map<Tensor, Pieces>();
  for (const t of order0) {
    const info = regionGradient(t);
    const rule = info && simplifiedBackward[info.region.kind];
    const s = rule?.(info!.region, info!.input, info!.cotangent, users0);
    if (s) backward.set(t, s);
    else {
      transposedProduct(t, users0, backward);
      leadingSum(t, backward);
      piecewiseSum(t, pieces, backward);
    }
  }
  const stage1 = rebuild(roots0, backward);
  const roots1 = roots0.map((r) => stage1.get(r)!);

  const order = topoSort(roots1);
  const users = consumers(roots1, order);
  const members = new Map<Region, Tensor[]>();
  for (const n of order) {
    if (!n.region || n.inputs.length === 0) continue;
    const list = members.get(n.region);
    if (list) list.push(n);
    else members.set(n.region, [n]);
  }
  const forward = new Map<Tensor, Substitution>();
  for (const [region, nodes] of members) {
    const fusion = fusedForward[region.kind];
    const out = region.output && stage1.get(region.output);
    if (!fusion || !out || out.region !== region || !users.has(out)) continue;
    if (fusion.accepts && !fusion.accepts(region, out)) continue;
    const inputs = region.inputs.map((x) => stage1.get(x) ?? x);
    const parts = new Map<Tensor, string>();
    // ORT's CPU provider has no float64 LayerNormalization with the InvStdDev output.
    for (const name of out.dtype === "float32" ? (fusion.provides ?? []) : []) {
      const p = region.parts[name] && stage1.get(region.parts[name]!);
      if (p) parts.set(p, name);
    }
    const outside = (u: Tensor) => u.region !== region;
    const provided = new Set<string>();
    let sealed = true;
    for (const n of nodes) {
      if (n.inputs.some((x) => x.inputs.length > 0 && x.region !== region && !inputs.includes(x))) sealed = false;
      if (n === out || !(users.get(n) ?? []).some(outside)) continue;
      const name = parts.get(n);
      if (name) provided.add(name);
      else sealed = false;
    }
    if (!sealed) continue;
    // Fold a following `mul(y, w)` / `add(·, b)` with per-feature w, b into LayerNormalization.
    let last = out;
    const ins = [...inputs];
    if (region.kind === "layerNorm") {
      const d = out.shape[out.rank - 1];
      const perFeature = (t: Tensor | undefined) => t !== undefined && t.rank === 1 && t.shape[0] === d;
      const soleUser = (t: Tensor) => {
        const u = users.get(t) ?? [];
        return u.length === 1 ? u[0]! : undefined;
      };
      const scale = soleUser(out);
      if (scale?.op === "mul" && scale.inputs[0] === out && perFeature(scale.inputs[1]) && !provided.size) {
        last = scale;
        ins.push(scale.inputs[1]!);
        const shift = soleUser(scale);
        if (shift?.op === "add" && shift.inputs[0] === scale && perFeature(shift.inputs[1])) {
          last = shift;
          ins.push(shift.inputs[1]!);
        }
      }
    }
    const node = last;
    forward.set(node, { deps: ins, build: (xs) => fusion.build(region, xs, provided) });
    for (const [p, name] of parts)
      if (provided.has(name)) forward.set(p, { deps: [node], build: ([y]) => fused("onnx.output", [y!], { name }, p) });
  }
  const stage2 = rebuild(roots1, forward);
  return Object.fromEntries(keys.map((k, i) => [k, stage2.get(roots1[i]!)!]));
}
