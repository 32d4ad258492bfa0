import type { LowerOptions } from "@exits/onnx";
import type { HostTensor } from "@exits/runtime";

/** Lowering options that bake trained weights into an inference graph as initializers (frozen). */
export function frozenWeights(parameters: ReadonlyMap<string, HostTensor>): LowerOptions {
  const paramValues = new Map<string, Float32Array>();
  for (const [name, t] of parameters) paramValues.set(name, t.data as Float32Array);
  return { params: "initializers", paramValues };
}
