import { fail } from "./errors.js";
import { broadcastShapes, normAxis, product, sameShape } from "./shape.js";
import { shapeString, Tensor } from "./tensor.js";

function check(op: string, x: Tensor): void {
  if (!(x instanceof Tensor)) fail(op, "operand is not a Tensor");
}

/** New shape with the same number of elements; one entry may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  check("reshape", x);
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== free)))
    fail("reshape", `invalid target shape ${shapeString(shape)}`);
  if (free >= 0) {
    const known = product(out.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0)
      fail("reshape", `cannot infer -1 in ${shapeString(shape)} from ${shapeString(x.shape)}`);
    out[free] = x.size / known;
  }
  if (product(out) !== x.size) fail("reshape", `cannot reshape ${shapeString(x.shape)} to ${shapeString(shape)}`);
  if (sameShape(out, x.shape)) return x;
  // reshape∘reshape is one reshape (fewer nodes, nothing changes numerically).
  if (x.op === "reshape") return reshape(x.inputs[0]!, out);
  return new Tensor("reshape", [x], { shape: out }, out, x.dtype);
}

/** Permutes axes (reverses them when `perm` is omitted). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  check("transpose", x);
  const p = perm ? perm.map((a) => normAxis("transpose", a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== x.rank)
    fail("transpose", `invalid permutation [${perm}] for rank ${x.rank}`);
  if (p.every((a, i) => a === i)) return x;
  // transpose∘transpose is one transpose (or none): e.g. the gradient of x @ wᵀ uses w directly.
  if (x.op === "transpose") {
    const inner = x.attrs["perm"] as number[];
    return transpose(
      x.inputs[0]!,
      p.map((a) => inner[a]!),
    );
  }
  return new Tensor(
    "transpose",
    [x],
    { perm: p },
    p.map((a) => x.shape[a]!),
    x.dtype,
  );
}

/**
 * numpy-style basic slicing on `axes` (default 0..n-1): negative indices count from the end,
 * out-of-range bounds clamp, steps are >= 1. Attributes are stored normalised for every axis.
 */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Tensor {
  check("slice", x);
  const ax = axes ?? starts.map((_, i) => i);
  if (starts.length !== ax.length || ends.length !== ax.length || (steps && steps.length !== ax.length))
    fail("slice", "starts, ends, axes and steps must have the same length");
  const st = x.shape.map(() => 0);
  const en = [...x.shape];
  const sp = x.shape.map(() => 1);
  ax.forEach((axis, j) => {
    const a = normAxis("slice", axis, x.rank);
    const dim = x.shape[a]!;
    const norm = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const step = steps?.[j] ?? 1;
    if (!Number.isInteger(step) || step < 1) fail("slice", `step must be a positive integer, got ${step}`);
    st[a] = norm(starts[j]!);
    en[a] = Math.max(norm(ends[j]!), st[a]!);
    sp[a] = step;
  });
  const shape = x.shape.map((_, i) => Math.ceil((en[i]! - st[i]!) / sp[i]!));
  if (sameShape(shape, x.shape)) return x;
  return new Tensor("slice", [x], { starts: st, ends: en, steps: sp }, shape, x.dtype);
}

/** Joins tensors of equal dtype along `axis`; other dims must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail("concat", "no operands");
  for (const x of xs) check("concat", x);
  const first = xs[0]!;
  const a = normAxis("concat", axis, first.rank);
  for (const x of xs) {
    if (x.dtype !== first.dtype) fail("concat", `dtype mismatch ${first.dtype} vs ${x.dtype}`);
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i]))
      fail("concat", `shapes ${shapeString(first.shape)} and ${shapeString(x.shape)} differ off axis ${a}`);
  }
  if (xs.length === 1) return first;
  const shape = [...first.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  return new Tensor("concat", [...xs], { axis: a }, shape, first.dtype);
}

/** Constant padding: `pads[i] = [before, after]` for axis i (missing trailing axes: no padding). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  check("pad", x);
  if (pads.length > x.rank) fail("pad", `${pads.length} pad pairs for rank ${x.rank}`);
  const p = x.shape.map((_, i) => [pads[i]?.[0] ?? 0, pads[i]?.[1] ?? 0] as [number, number]);
  if (p.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0))
    fail("pad", "pads must be non-negative integers");
  if (p.every(([b, e]) => b === 0 && e === 0)) return x;
  return new Tensor(
    "pad",
    [x],
    { pads: p, value },
    x.shape.map((d, i) => d + p[i]![0] + p[i]![1]),
    x.dtype,
  );
}

/** `x` indexed along `axis` by int64 `indices`: shape x[:axis] + indices.shape + x[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  check("gather", x);
  check("gather", indices);
  if (indices.dtype !== "int64") fail("gather", `indices must be int64, got ${indices.dtype}`);
  const a = normAxis("gather", axis, x.rank);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return new Tensor("gather", [x, indices], { axis: a }, shape, x.dtype);
}

/** numpy broadcast_to: `x` must broadcast to exactly `shape`. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  check("expand", x);
  const out = broadcastShapes("expand", x.shape, shape);
  if (!sameShape(out, shape)) fail("expand", `cannot expand ${shapeString(x.shape)} to ${shapeString(shape)}`);
  if (sameShape(out, x.shape)) return x;
  return new Tensor("expand", [x], { shape: out }, out, x.dtype);
}
