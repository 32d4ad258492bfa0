import { type Logger } from "@exits/base";
import { input, type Tensor } from "@exits/graph";
import { randomWalk, retrievalScore, sinkhorn, symmetricTransition } from "@exits/models";
import { type CompiledGraph, compileGraph, type HostTensor, type RuntimeConfig } from "@exits/runtime";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import { extractorForward } from "../model/extractor-model.js";
import { frozenWeights } from "../model/frozen-weights.js";

/**
 * The frozen extractor's retrieval pass as ONE graph over a batch of crops (method §3.1–3.3):
 * attention S → Sinkhorn → T = (A + Aᵀ)/2 → α-step random walks from the seed distributions
 * (vector–matrix products, never T^α) → N²·(π_f − π_b). Outputs `score:<α>` [B, N²] for each
 * requested α (the walk continues from the previous α, so several cost one walk), the Sinkhorn
 * `iterations` and `deviation` per crop, and `transition` [B, N², N²] when asked for.
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
  const { attention } = extractorForward(images, c);
  const { doubly, iterations, deviation } = sinkhorn(attention, {
    maxIterations: c.retrieval.sinkhornIterations,
    tolerance: c.retrieval.sinkhornTolerance,
  });
  const t = symmetricTransition(doubly);
  const outputs: Record<string, Tensor> = { iterations, deviation };
  if (options.transition) outputs.transition = t;
  let pi = seeds;
  let walked = 0;
  for (const alpha of [...new Set(alphas)].sort((a, b) => a - b)) {
    pi = randomWalk(pi, t, alpha - walked);
    walked = alpha;
    outputs[`score:${alpha}`] = retrievalScore(pi);
  }
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
