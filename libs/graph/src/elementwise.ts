import { type DType, isFloat } from "./dtype.js";
import { fail } from "./errors.js";
import { scalar } from "./leaves.js";
import { broadcastShapes } from "./shape.js";
import { Tensor } from "./tensor.js";

/** A tensor, or a JS number that becomes a scalar constant of the other operand's dtype. */
export type Operand = Tensor | number;

function unary(op: string, x: Tensor, allowed: (d: DType) => boolean = isFloat): Tensor {
  if (!(x instanceof Tensor)) fail(op, "operand is not a Tensor");
  if (!allowed(x.dtype)) fail(op, `unsupported dtype ${x.dtype}`);
  return new Tensor(op, [x], {}, x.shape, x.dtype);
}

const numeric = (d: DType) => d !== "bool";

export const neg = (x: Tensor) => unary("neg", x, numeric);
export const exp = (x: Tensor) => unary("exp", x);
export const log = (x: Tensor) => unary("log", x);
export const sqrt = (x: Tensor) => unary("sqrt", x);
export const reciprocal = (x: Tensor) => unary("reciprocal", x);
export const abs = (x: Tensor) => unary("abs", x, numeric);
/** -1, 0 or 1; its gradient is zero. */
export const sign = (x: Tensor) => unary("sign", x, numeric);
export const tanh = (x: Tensor) => unary("tanh", x);
export const erf = (x: Tensor) => unary("erf", x);
export const relu = (x: Tensor) => unary("relu", x);

/** Turns number operands into scalars of the tensor operand's dtype. */
export function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") fail(op, "at least one operand must be a Tensor");
  const ta = typeof a === "number" ? scalar(a, (b as Tensor).dtype) : a;
  const tb = typeof b === "number" ? scalar(b, ta.dtype) : b;
  if (!(ta instanceof Tensor) || !(tb instanceof Tensor)) fail(op, "operand is not a Tensor");
  if (ta.dtype !== tb.dtype) fail(op, `dtype mismatch ${ta.dtype} vs ${tb.dtype}`);
  return [ta, tb];
}

function binary(op: string, a: Operand, b: Operand, out?: DType, allowed: (d: DType) => boolean = numeric): Tensor {
  const [ta, tb] = operands(op, a, b);
  if (!allowed(ta.dtype)) fail(op, `unsupported dtype ${ta.dtype}`);
  return new Tensor(op, [ta, tb], {}, broadcastShapes(op, ta.shape, tb.shape), out ?? ta.dtype);
}

export const add = (a: Operand, b: Operand) => binary("add", a, b);
export const sub = (a: Operand, b: Operand) => binary("sub", a, b);
export const mul = (a: Operand, b: Operand) => binary("mul", a, b);
export const div = (a: Operand, b: Operand) => binary("div", a, b);
export const pow = (a: Operand, b: Operand) => binary("pow", a, b, undefined, isFloat);
export const maximum = (a: Operand, b: Operand) => binary("maximum", a, b);
export const minimum = (a: Operand, b: Operand) => binary("minimum", a, b);

export const less = (a: Operand, b: Operand) => binary("less", a, b, "bool");
export const lessEqual = (a: Operand, b: Operand) => binary("lessEqual", a, b, "bool");
export const greater = (a: Operand, b: Operand) => binary("greater", a, b, "bool");
export const greaterEqual = (a: Operand, b: Operand) => binary("greaterEqual", a, b, "bool");
export const equal = (a: Operand, b: Operand) => binary("equal", a, b, "bool", () => true);

const isBool = (d: DType) => d === "bool";
export const logicalAnd = (a: Tensor, b: Tensor) => binary("logicalAnd", a, b, "bool", isBool);
export const logicalOr = (a: Tensor, b: Tensor) => binary("logicalOr", a, b, "bool", isBool);
export const logicalNot = (x: Tensor) => unary("logicalNot", x, isBool);

/** Elementwise `cond ? a : b` with three-way broadcasting. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (!(cond instanceof Tensor) || cond.dtype !== "bool") fail("where", "condition must be a bool Tensor");
  const [ta, tb] = operands("where", typeof a === "number" && typeof b === "number" ? scalar(a) : a, b);
  const shape = broadcastShapes("where", cond.shape, broadcastShapes("where", ta.shape, tb.shape));
  return new Tensor("where", [cond, ta, tb], {}, shape, ta.dtype);
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (!(x instanceof Tensor)) fail("cast", "operand is not a Tensor");
  if (x.dtype === dtype) return x;
  return new Tensor("cast", [x], { to: dtype }, x.shape, dtype);
}

/** Identity in the forward pass; no gradient flows through it. */
export function stopGradient(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) fail("stopGradient", "operand is not a Tensor");
  return new Tensor("stopGradient", [x], {}, x.shape, x.dtype);
}
