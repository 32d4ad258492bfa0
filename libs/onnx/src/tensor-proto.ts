import type { DType, TypedArray } from "@exits/graph";
import { type OnnxTypes, onnx } from "./proto.js";

const TensorType = onnx.TensorProto.DataType;

export const onnxDType: Record<DType, number> = {
  float32: TensorType.FLOAT,
  float64: TensorType.DOUBLE,
  int64: TensorType.INT64,
  bool: TensorType.BOOL,
};

/** Little-endian bytes of a typed array (a copy, so later edits of the source do not leak in). */
export function rawBytes(values: TypedArray): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

export function tensorProto(
  name: string,
  dims: readonly number[],
  dtype: DType,
  values: TypedArray,
): OnnxTypes.ITensorProto {
  return { name, dims: [...dims], dataType: onnxDType[dtype], rawData: rawBytes(values) };
}

export function valueInfo(name: string, dims: readonly number[], dtype: DType): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnxDType[dtype], shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}
