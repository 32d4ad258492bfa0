import ort from "onnxruntime-node";
import { elementCount, type HostDType, type HostTensor } from "../tensor/host-tensor.js";

const hostTypes: readonly string[] = ["float32", "float64", "int64", "bool"];

export function toOrtTensor(name: string, t: HostTensor): ort.Tensor {
  const n = elementCount(t.shape);
  if (t.data.length !== n)
    throw new Error(`input "${name}": shape [${t.shape.join(", ")}] needs ${n} elements, got ${t.data.length}`);
  return new ort.Tensor(t.dtype, t.data, t.shape);
}

export function fromOrtTensor(name: string, value: ort.OnnxValue): HostTensor {
  const t = value as ort.Tensor;
  if (!hostTypes.includes(t.type))
    throw new Error(`output "${name}" has type ${t.type}, which the runtime does not handle`);
  const dtype = t.type as HostDType;
  let data = t.data as HostTensor["data"];
  // ORT hands bool outputs back as Uint8Array already; normalise anything else (0/1 bytes).
  if (dtype === "bool" && !(data instanceof Uint8Array))
    data = Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
  return { dtype, shape: [...t.dims], data } as HostTensor;
}
