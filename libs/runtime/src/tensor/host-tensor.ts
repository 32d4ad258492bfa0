/** Element types a host tensor can hold; the same names as ONNX Runtime's tensor types. */
export type HostDType = "float32" | "float64" | "int64" | "bool";

/** The typed array that backs each element type (bool is one byte per element, 0 or 1). */
export interface HostArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

/**
 * A dense, row-major tensor in host memory. `data.length` always equals the product of `shape`
 * (1 for a scalar, whose shape is `[]`).
 */
export type HostTensor<D extends HostDType = HostDType> = D extends HostDType
  ? { readonly dtype: D; readonly shape: readonly number[]; readonly data: HostArrayOf[D] }
  : never;

export const bytesPerElement: Record<HostDType, number> = { float32: 4, float64: 8, int64: 8, bool: 1 };

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid dimension ${d} in shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

function checked<T extends HostTensor>(t: T): T {
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw new Error(`${t.dtype} tensor of shape [${t.shape.join(", ")}] needs ${n} elements, got ${t.data.length}`);
  }
  return t;
}

export function float32(data: Float32Array | readonly number[], shape: readonly number[]): HostTensor<"float32"> {
  return checked({
    dtype: "float32",
    shape: [...shape],
    data: data instanceof Float32Array ? data : Float32Array.from(data),
  });
}

export function float64(data: Float64Array | readonly number[], shape: readonly number[]): HostTensor<"float64"> {
  return checked({
    dtype: "float64",
    shape: [...shape],
    data: data instanceof Float64Array ? data : Float64Array.from(data),
  });
}

export function int64(
  data: BigInt64Array | readonly (number | bigint)[],
  shape: readonly number[],
): HostTensor<"int64"> {
  const arr = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return checked({ dtype: "int64", shape: [...shape], data: arr });
}

export function bool(data: Uint8Array | readonly (boolean | number)[], shape: readonly number[]): HostTensor<"bool"> {
  const arr = data instanceof Uint8Array ? data : Uint8Array.from(data, (v) => (v ? 1 : 0));
  return checked({ dtype: "bool", shape: [...shape], data: arr });
}

export function zeros<D extends HostDType>(dtype: D, shape: readonly number[]): HostTensor<D> {
  const n = elementCount(shape);
  const data =
    dtype === "float32"
      ? new Float32Array(n)
      : dtype === "float64"
        ? new Float64Array(n)
        : dtype === "int64"
          ? new BigInt64Array(n)
          : new Uint8Array(n);
  return { dtype, shape: [...shape], data } as unknown as HostTensor<D>;
}

/** The raw little-endian bytes of a tensor, without copying (this code only runs on little-endian hosts). */
export function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("big-endian hosts are not supported");
}
