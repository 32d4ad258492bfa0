import { DType, type Tensor as WireTensor } from "@exits/contracts";
import { InvalidArgumentError } from "@exits/platform";
import { present } from "../config/config-field.js";

const DTYPE_NAMES: Record<number, string> = {
  [DType.DTYPE_FLOAT32]: "DTYPE_FLOAT32",
  [DType.DTYPE_UINT8]: "DTYPE_UINT8",
};

/** A wire Tensor's checked view: its dims and its bytes, not copied. */
export interface WireArray<T> {
  shape: number[];
  data: T;
}

/**
 * Checks a wire Tensor (field path `field`, e.g. "crops.crops") against what the RPC declares:
 * dtype, rank, each fixed dimension (`expected` entries may be undefined = any size), and the byte
 * length product(shape) × sizeof(dtype) (tensor.proto). Each failure is INVALID_ARGUMENT naming
 * the field. Returns the data as a typed array over a copy aligned for it.
 */
export function readWireTensor(
  wire: WireTensor | null | undefined,
  field: string,
  dtype: DType.DTYPE_FLOAT32,
  expected: readonly (number | undefined)[],
): WireArray<Float32Array>;
export function readWireTensor(
  wire: WireTensor | null | undefined,
  field: string,
  dtype: DType.DTYPE_UINT8,
  expected: readonly (number | undefined)[],
): WireArray<Uint8Array>;
export function readWireTensor(
  wire: WireTensor | null | undefined,
  field: string,
  dtype: DType.DTYPE_FLOAT32 | DType.DTYPE_UINT8,
  expected: readonly (number | undefined)[],
): WireArray<Float32Array | Uint8Array> {
  const t = present(wire);
  if (!t) throw new InvalidArgumentError(field, "is missing");
  if (t.dtype !== dtype)
    throw new InvalidArgumentError(field, `dtype must be ${DTYPE_NAMES[dtype]}, got ${DType[t.dtype] ?? t.dtype}`);
  const shape = (t.shape ?? []).map(Number);
  const want = `[${expected.map((d) => d ?? "*").join(", ")}]`;
  if (
    shape.length !== expected.length ||
    shape.some((d, i) => !Number.isInteger(d) || d < 0 || (expected[i] !== undefined && d !== expected[i]))
  )
    throw new InvalidArgumentError(field, `shape must be ${want}, got [${shape.join(", ")}]`);
  const size = dtype === DType.DTYPE_FLOAT32 ? 4 : 1;
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = t.data ?? new Uint8Array();
  if (bytes.length !== count * size)
    throw new InvalidArgumentError(
      field,
      `data holds ${bytes.length} bytes; shape [${shape.join(", ")}] of ${DTYPE_NAMES[dtype]} needs ${count * size}`,
    );
  if (dtype === DType.DTYPE_UINT8) return { shape, data: new Uint8Array(bytes) };
  // Copy: a Buffer from grpc may sit at an offset that is not a multiple of 4 (and is little-endian, as the proto says).
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes);
  return { shape, data };
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/** A float32 wire Tensor over `data` (little-endian hosts, as every supported platform is). */
export function float32Tensor(shape: readonly number[], data: Float32Array): WireTensor {
  return {
    shape: [...shape],
    dtype: DType.DTYPE_FLOAT32,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** A uint8 wire Tensor over `data`. */
export function uint8Tensor(shape: readonly number[], data: Uint8Array): WireTensor {
  return {
    shape: [...shape],
    dtype: DType.DTYPE_UINT8,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}
