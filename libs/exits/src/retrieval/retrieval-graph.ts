import type { Logger } from "@exits/base";
import { input, type Tensor } from "@exits/graph";
import { type CompiledGraph, compileGraph, type HostTensor, type RuntimeConfig } from "@exits/runtime";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { frozenWeights } from "../model/frozen-weights.js";
import { similarityTensors } from "./similarity-graph.js";
import { walkTensors } from "./walk-graph.js";

/**
 * The frozen extractor's retrieval pass as ONE graph over a batch of crops (method §3.1–3.3): the
 * similarity half (attention S → Sinkhorn → T = (A + Aᵀ)/2, `similarity-graph.ts`) composed with
 * the walk half (α-step random walks from the seed distributions, vector–matrix products, never
 * T^α → N²·(π_f − π_b), `walk-graph.ts`). Outputs `score:<α>` [B, N²] for each requested α, the
 * Sinkhorn `iterations` and `deviation` per crop, and `transition` [B, N², N²] when asked for.
 * The services run the two halves apart (SimilarityService, RetrievalService); in one process
 * the composition saves copying T out and back.
 */
export function retrievalGraph(
  c: MethodConfig,
  batch: number,
  alphas: readonly number[],
  options: { transition?: boolean } = {},
): Record<string, Tensor> {
  const { grid } = gridOf(c);
  const m = grid * grid;
  const images = input("images", [batch, 3, c.crop.size, c.crop.size]);
  const seeds = input("seeds", [batch, 2, m]);
  const { transition, iterations, deviation } = similarityTensors(images, c);
  const outputs: Record<string, Tensor> = { iterations, deviation, ...walkTensors(transition, seeds, alphas) };
  if (options.transition) outputs.transition = transition;
  return outputs;
}

/** Compiles {@link retrievalGraph} with the extractor's weights baked in as initializers (frozen). */
export async function compileRetrieval(
  c: MethodConfig,
  parameters: ReadonlyMap<string, HostTensor>,
  batch: number,
  alphas: readonly number[],
  options: { transition?: boolean; runtime?: Partial<RuntimeConfig>; logger?: Logger } = {},
): Promise<CompiledGraph> {
  const outputs = retrievalGraph(c, batch, alphas, options);
  return compileGraph(outputs, {
    config: options.runtime,
    logger: options.logger,
    name: "retrieval",
    lower: frozenWeights(parameters),
  });
}
