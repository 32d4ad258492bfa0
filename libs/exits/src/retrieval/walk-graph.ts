import type { Logger } from "@exits/base";
import { input, type Tensor } from "@exits/graph";
import { randomWalk, retrievalScore } from "@exits/models";
import { type CompiledGraph, compileGraph, type RuntimeConfig } from "@exits/runtime";

/**
 * The second half of retrieval (method §3.3): from T [B, M, M] and the seed distributions
 * [B, 2, M] (P_FG row first), α-step walks as α vector × matrix products (never T^α) and the score
 * M·(π_f − π_b). For several α the walk continues from the previous one, so all cost one walk.
 * Returns `score:<α>` [B, M] and, with `distributions`, `pi:<α>` [B, 2, M] (π_f, π_b).
 */
export function walkTensors(
  transition: Tensor,
  seeds: Tensor,
  alphas: readonly number[],
  options: { distributions?: boolean } = {},
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  let pi = seeds;
  let walked = 0;
  for (const alpha of [...new Set(alphas)].sort((a, b) => a - b)) {
    pi = randomWalk(pi, transition, alpha - walked);
    walked = alpha;
    out[`score:${alpha}`] = retrievalScore(pi);
    if (options.distributions) out[`pi:${alpha}`] = pi;
  }
  return out;
}

/** {@link walkTensors} as a graph with inputs `transition` [B, M, M] and `seeds` [B, 2, M], M = grid². What RetrievalService runs. */
export function walkGraph(
  grid: number,
  batch: number,
  alphas: readonly number[],
  options: { distributions?: boolean } = {},
): Record<string, Tensor> {
  const m = grid * grid;
  return walkTensors(input("transition", [batch, m, m]), input("seeds", [batch, 2, m]), alphas, options);
}

/** Compiles {@link walkGraph} (no weights: T comes in as an input). */
export async function compileWalk(
  grid: number,
  batch: number,
  alphas: readonly number[],
  options: { distributions?: boolean; runtime?: Partial<RuntimeConfig>; logger?: Logger } = {},
): Promise<CompiledGraph> {
  return compileGraph(walkGraph(grid, batch, alphas, options), {
    config: options.runtime,
    logger: options.logger,
    name: "walk",
  });
}
