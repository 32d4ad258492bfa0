/** Element types the graph supports. `bool` tensors are stored as 0/1 bytes. */
export type DType = "float32" | "float64" | "int64" | "bool";

/** Static shape: one size per axis, `[]` for a scalar. */
export type Shape = readonly number[];

/** Host storage of a tensor's values, one array kind per dtype (bool: Uint8Array of 0/1). */
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Uint8Array;

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Copies numbers into the typed array that holds `dtype`. */
export function toTypedArray(values: ArrayLike<number> | TypedArray, dtype: DType): TypedArray {
  if (dtype === "float32")
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>, Number);
  if (dtype === "float64")
    return values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>, Number);
  if (dtype === "bool")
    return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  if (values instanceof BigInt64Array) return values;
  return BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(Math.trunc(Number(v)))));
}
