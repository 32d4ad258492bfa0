import { isFloat } from "./dtype.js";
import { fail } from "./errors.js";
import { normAxes, normAxis } from "./shape.js";
import { Tensor } from "./tensor.js";

function reduce(op: string, x: Tensor, axes: number | readonly number[] | undefined, keepdims: boolean): Tensor {
  if (!(x instanceof Tensor)) fail(op, "operand is not a Tensor");
  if (x.dtype === "bool") fail(op, "unsupported dtype bool");
  const ax = normAxes(op, axes, x.rank);
  if (ax.length === 0) return x;
  const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
  return new Tensor(op, [x], { axes: ax, keepdims }, shape, x.dtype);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return reduce("sum", x, axes, keepdims);
}

/** Maximum over `axes` (all when omitted); ties share the gradient equally (like torch.amax). */
export function max(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  return reduce("max", x, axes, keepdims);
}

/** Index of the maximum along `axis` (int64, first on ties); not differentiable. */
export function argmax(x: Tensor, axis: number, keepdims = false): Tensor {
  if (!isFloat(x.dtype) && x.dtype !== "int64") fail("argmax", `unsupported dtype ${x.dtype}`);
  const a = normAxis("argmax", axis, x.rank);
  const shape = keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return new Tensor("argmax", [x], { axis: a, keepdims }, shape, "int64");
}
