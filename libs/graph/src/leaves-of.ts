import type { DType, Shape } from "./dtype.js";
import { fail } from "./errors.js";
import { sameShape } from "./shape.js";
import type { Tensor } from "./tensor.js";
import { topoSort } from "./topo.js";

/** A named leaf (`param` or `input`) as the lowered model declares it. */
export interface LeafSpec {
  name: string;
  shape: Shape;
  dtype: DType;
}

function collect(kind: "param" | "input", roots: readonly Tensor[]): LeafSpec[] {
  const found = new Map<string, LeafSpec>();
  for (const t of topoSort(roots)) {
    if (t.op !== kind) continue;
    const name = t.attrs["name"] as string;
    const prev = found.get(name);
    if (!prev) found.set(name, { name, shape: t.shape, dtype: t.dtype });
    else if (!sameShape(prev.shape, t.shape) || prev.dtype !== t.dtype)
      fail(kind, `"${name}" declared as [${prev.shape}] ${prev.dtype} and [${t.shape}] ${t.dtype}`);
  }
  return [...found.values()];
}

/** The params the given tensors depend on (unique by name, in graph order). */
export function paramsOf(...roots: Tensor[]): LeafSpec[] {
  return collect("param", roots);
}

/** The data inputs the given tensors depend on (unique by name, in graph order). */
export function inputsOf(...roots: Tensor[]): LeafSpec[] {
  return collect("input", roots);
}
