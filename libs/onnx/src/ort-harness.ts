// Test support only (not exported): runs lowered graphs on onnxruntime-node's CPU provider.
import type { DType, Tensor, TypedArray } from "@exits/graph";
import * as ort from "onnxruntime-node";
import { type LowerOptions, toOnnx } from "./lower.js";

export type Feeds = Record<string, TypedArray>;
export type Results = Record<string, TypedArray>;

const ortType: Record<DType, "float32" | "float64" | "int64" | "bool"> = {
  float32: "float32",
  float64: "float64",
  int64: "int64",
  bool: "bool",
};

/** A compiled graph: `run` feeds the named inputs and returns every output's values. */
export interface Compiled {
  run(feeds: Feeds): Promise<Results>;
  inputs: { name: string; shape: number[]; dtype: DType }[];
}

export async function compile(outputs: Record<string, Tensor>, opts?: LowerOptions): Promise<Compiled> {
  const model = toOnnx(outputs, opts);
  const session = await ort.InferenceSession.create(model.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  return {
    inputs: model.inputs,
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const spec of model.inputs) {
        const data = feeds[spec.name];
        if (!data) throw new Error(`missing feed "${spec.name}"`);
        ortFeeds[spec.name] = new ort.Tensor(ortType[spec.dtype], data as never, spec.shape);
      }
      const out = await session.run(ortFeeds);
      const results: Results = {};
      for (const [name, t] of Object.entries(out)) results[name] = t.data as TypedArray;
      return results;
    },
  };
}

/** Deterministic uniform generator (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
