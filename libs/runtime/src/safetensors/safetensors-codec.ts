// Conversions between safetensors element bytes and host tensors.
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../tensor/half-float.js";
import { elementCount, type HostDType, type HostTensor, tensorBytes } from "../tensor/host-tensor.js";
import { SafetensorsError } from "./safetensors-error.js";
import { entryByteLength, type SafetensorsDType } from "./safetensors-header.js";

/**
 * Storage types a host tensor may be written as: float32 as F32, F16 or BF16 (rounded to
 * nearest even); int64 as I64 or any narrower integer type, refused when a value does not fit.
 */
export type StoreAs = "F32" | "F16" | "BF16" | "I64" | "I32" | "U32" | "I16" | "U16" | "I8" | "U8";

const nativeStore: Record<HostDType, SafetensorsDType> = { float32: "F32", float64: "F64", int64: "I64", bool: "BOOL" };
const storable: Record<HostDType, readonly SafetensorsDType[]> = {
  float32: ["F32", "F16", "BF16"],
  float64: ["F64"],
  int64: ["I64", "I32", "U32", "I16", "U16", "I8", "U8"],
  bool: ["BOOL"],
};

/** Integer storage types narrower than I64: inclusive range and little-endian writer. */
const narrowInts: Partial<
  Record<
    SafetensorsDType,
    { min: bigint; max: bigint; width: number; set: (v: DataView, i: number, x: number) => void }
  >
> = {
  I32: { min: -(2n ** 31n), max: 2n ** 31n - 1n, width: 4, set: (v, i, x) => v.setInt32(4 * i, x, true) },
  U32: { min: 0n, max: 2n ** 32n - 1n, width: 4, set: (v, i, x) => v.setUint32(4 * i, x, true) },
  I16: { min: -(2n ** 15n), max: 2n ** 15n - 1n, width: 2, set: (v, i, x) => v.setInt16(2 * i, x, true) },
  U16: { min: 0n, max: 2n ** 16n - 1n, width: 2, set: (v, i, x) => v.setUint16(2 * i, x, true) },
  I8: { min: -128n, max: 127n, width: 1, set: (v, i, x) => v.setInt8(i, x) },
  U8: { min: 0n, max: 255n, width: 1, set: (v, i, x) => v.setUint8(i, x) },
};

export function storedDType(t: HostTensor, storeAs?: StoreAs): SafetensorsDType {
  if (storeAs === undefined) return nativeStore[t.dtype];
  if (!storable[t.dtype].includes(storeAs)) {
    throw new SafetensorsError(
      `safetensors: ${t.dtype} tensors can be stored as ${storable[t.dtype].join(", ")}, not ${storeAs}`,
    );
  }
  return storeAs;
}

/**
 * The bytes to write for `t` stored as `dtype`: a view for native types, a converted copy
 * otherwise. `name` is for the message when a value does not fit a narrower integer type.
 */
export function encodeTensorData(t: HostTensor, dtype: SafetensorsDType, name = "tensor"): Uint8Array {
  if (dtype === nativeStore[t.dtype]) return tensorBytes(t);
  if (dtype === "F16" || dtype === "BF16") {
    const src = t.data as Float32Array;
    const out = new Uint16Array(src.length);
    const convert = dtype === "F16" ? floatToHalf : floatToBfloat16;
    for (let i = 0; i < src.length; i++) out[i] = convert(src[i]!);
    return new Uint8Array(out.buffer);
  }
  const int = narrowInts[dtype];
  if (!int || t.dtype !== "int64") throw new SafetensorsError(`safetensors: cannot store ${t.dtype} as ${dtype}`);
  const src = t.data as BigInt64Array;
  const out = new Uint8Array(src.length * int.width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    if (x < int.min || x > int.max) {
      throw new SafetensorsError(`safetensors: "${name}"[${i}] = ${x} does not fit ${dtype} [${int.min}, ${int.max}]`);
    }
    int.set(view, i, Number(x));
  }
  return out;
}

/** The host type a stored dtype is read as: half floats widen to float32, integers to int64. */
export function hostDTypeOf(dtype: SafetensorsDType): HostDType {
  switch (dtype) {
    case "F32":
    case "F16":
    case "BF16":
      return "float32";
    case "F64":
      return "float64";
    case "BOOL":
      return "bool";
    case "U64":
      throw new SafetensorsError("safetensors: U64 tensors are not supported (no lossless host type)");
    default:
      return "int64";
  }
}

/** Little-endian readers of the integer types that widen to int64, element i of a view. */
const intReaders: Partial<Record<SafetensorsDType, (v: DataView, i: number) => number>> = {
  U8: (v, i) => v.getUint8(i),
  I8: (v, i) => v.getInt8(i),
  I16: (v, i) => v.getInt16(2 * i, true),
  U16: (v, i) => v.getUint16(2 * i, true),
  I32: (v, i) => v.getInt32(4 * i, true),
  U32: (v, i) => v.getUint32(4 * i, true),
};

/** Builds a host tensor from the raw (little-endian, possibly unaligned) bytes of one entry. */
export function decodeTensorData(dtype: SafetensorsDType, shape: readonly number[], bytes: Uint8Array): HostTensor {
  hostDTypeOf(dtype); // refuses U64
  const want = entryByteLength(dtype, shape);
  if (bytes.length !== want) {
    throw new SafetensorsError(`safetensors: ${dtype}[${shape.join(", ")}] needs ${want} bytes, got ${bytes.length}`);
  }
  const n = elementCount(shape);
  // A buffer of exactly these bytes: reused when `bytes` owns it whole (a fresh read), else copied,
  // because offsets inside a file need not be aligned to the element size.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
  const own = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const s = [...shape];
  switch (dtype) {
    case "F32":
      return { dtype: "float32", shape: s, data: new Float32Array(buffer, 0, n) };
    case "F64":
      return { dtype: "float64", shape: s, data: new Float64Array(buffer, 0, n) };
    case "I64":
      return { dtype: "int64", shape: s, data: new BigInt64Array(buffer, 0, n) };
    case "BOOL": {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = own[i] ? 1 : 0;
      return { dtype: "bool", shape: s, data };
    }
    case "F16":
    case "BF16": {
      const data = new Float32Array(n);
      const convert = dtype === "F16" ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < n; i++) data[i] = convert(view.getUint16(2 * i, true));
      return { dtype: "float32", shape: s, data };
    }
    default: {
      const read = intReaders[dtype];
      if (!read) throw new SafetensorsError(`safetensors: cannot read ${dtype}`);
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) data[i] = BigInt(read(view, i));
      return { dtype: "int64", shape: s, data };
    }
  }
}
