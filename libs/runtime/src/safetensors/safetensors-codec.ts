// Conversions between safetensors element bytes and host tensors.
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../tensor/half-float.js";
import { elementCount, type HostDType, type HostTensor, tensorBytes } from "../tensor/host-tensor.js";
import type { SafetensorsDType } from "./safetensors-header.js";

/** Storage types a host tensor may be written as; float32 may be narrowed to F16 or BF16. */
export type StoreAs = "F32" | "F16" | "BF16";

const nativeStore: Record<HostDType, SafetensorsDType> = { float32: "F32", float64: "F64", int64: "I64", bool: "BOOL" };

export function storedDType(t: HostTensor, storeAs?: StoreAs): SafetensorsDType {
  if (storeAs === undefined || storeAs === "F32") return nativeStore[t.dtype];
  if (t.dtype !== "float32")
    throw new Error(`safetensors: only float32 tensors can be stored as ${storeAs}, not ${t.dtype}`);
  return storeAs;
}

/** The bytes to write for `t` stored as `dtype`: a view for native types, a converted copy for F16/BF16. */
export function encodeTensorData(t: HostTensor, dtype: SafetensorsDType): Uint8Array {
  if (dtype === nativeStore[t.dtype]) return tensorBytes(t);
  const src = t.data as Float32Array;
  const out = new Uint16Array(src.length);
  const convert = dtype === "F16" ? floatToHalf : floatToBfloat16;
  for (let i = 0; i < src.length; i++) out[i] = convert(src[i]!);
  return new Uint8Array(out.buffer);
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
      throw new Error("safetensors: U64 tensors are not supported (no lossless host type)");
    default:
      return "int64";
  }
}

/** Builds a host tensor from the raw (little-endian, possibly unaligned) bytes of one entry. */
export function decodeTensorData(dtype: SafetensorsDType, shape: readonly number[], bytes: Uint8Array): HostTensor {
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
      const data = new BigInt64Array(n);
      const read: (i: number) => number | bigint =
        dtype === "U8"
          ? (i) => view.getUint8(i)
          : dtype === "I8"
            ? (i) => view.getInt8(i)
            : dtype === "I16"
              ? (i) => view.getInt16(2 * i, true)
              : dtype === "U16"
                ? (i) => view.getUint16(2 * i, true)
                : dtype === "I32"
                  ? (i) => view.getInt32(4 * i, true)
                  : dtype === "U32"
                    ? (i) => view.getUint32(4 * i, true)
                    : () => {
                        throw new Error(`safetensors: cannot read ${dtype}`);
                      };
      for (let i = 0; i < n; i++) data[i] = BigInt(read(i));
      return { dtype: "int64", shape: s, data };
    }
  }
}
