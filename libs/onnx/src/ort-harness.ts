// Test support only (not exported): runs lowered graphs on onnxruntime-node's CPU provider.
import { type DType, Rng, type Tensor, type TypedArray } from "@exits/graph";
import * as ort from "onnxruntime-node";
import { type LowerOptions, toOnnx } from "./lower.js";

export type Feeds = Record<string, TypedArray>;
export type Results = Record<string, TypedArray>;

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
        // The graph's dtype names are ONNX Runtime's tensor type names.
        ortFeeds[spec.name] = new ort.Tensor(spec.dtype, data as never, spec.shape);
      }
      const out = await session.run(ortFeeds);
      const results: Results = {};
      for (const [name, t] of Object.entries(out)) results[name] = t.data as TypedArray;
      return results;
    },
  };
}

/** The shared seeded generator as a uniform [0, 1) source, so failures reproduce. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
