import { type DType, type Shape, type TypedArray, toTypedArray } from "./dtype.js";
import { fail } from "./errors.js";
import { product } from "./shape.js";
import { shapeString, Tensor } from "./tensor.js";

function checkShape(op: string, shape: Shape): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(op, `invalid shape ${shapeString(shape)}`);
}

/** Data fed at run time; its ONNX input is named `name`. */
export function input(name: string, shape: Shape, dtype: DType = "float32"): Tensor {
  checkShape("input", shape);
  return new Tensor("input", [], { name }, shape, dtype);
}

/** A trainable weight; its ONNX input (or initializer) is named `param:<name>`. */
export function param(name: string, shape: Shape, dtype: DType = "float32"): Tensor {
  checkShape("param", shape);
  if (paramSource) return paramSource(name, shape, dtype);
  return new Tensor("param", [], { name }, shape, dtype);
}

/** Where `param()` takes its leaves from while {@link withParamSource} runs. */
export type ParamSource = (name: string, shape: Shape, dtype: DType) => Tensor;

let paramSource: ParamSource | undefined;

/**
 * Builds with every `param(name, ...)` call answered by `source` instead: e.g. an EMA teacher's
 * forward pass is the student's model code with a source that returns `input("ema:" + name, shape, dtype)`, so one
 * model definition serves both and the teacher reads the training step's EMA weights.
 */
export function withParamSource<T>(source: ParamSource, build: () => T): T {
  const outer = paramSource;
  paramSource = source;
  try {
    return build();
  } finally {
    paramSource = outer;
  }
}

/** Values baked into the model as an initializer. */
export function constant(values: TypedArray | ArrayLike<number>, shape: Shape, dtype: DType = "float32"): Tensor {
  checkShape("const", shape);
  const data = toTypedArray(values as ArrayLike<number>, dtype);
  if (data.length !== product(shape)) fail("const", `${data.length} values for shape ${shapeString(shape)}`);
  return new Tensor("const", [], { value: data }, shape, dtype);
}

export function scalar(value: number, dtype: DType = "float32"): Tensor {
  return constant([value], [], dtype);
}

/** A constant filled with `value`, stored as a scalar and broadcast (keeps the model small). */
export function full(shape: Shape, value: number, dtype: DType = "float32"): Tensor {
  const s = scalar(value, dtype);
  return shape.length === 0 ? s : new Tensor("expand", [s], { shape: [...shape] }, shape, dtype);
}

export function zeros(shape: Shape, dtype: DType = "float32"): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = "float32"): Tensor {
  return full(shape, 1, dtype);
}
