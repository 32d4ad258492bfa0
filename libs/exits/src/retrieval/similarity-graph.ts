import type { Logger } from "@exits/base";
import { input, type Tensor } from "@exits/graph";
import { sinkhorn, symmetricTransition } from "@exits/models";
import { type CompiledGraph, compileGraph, type HostTensor, type RuntimeConfig } from "@exits/runtime";
import type { MethodConfig } from "../config/method-config.js";
import { extractorForward } from "../model/extractor-model.js";
import { frozenWeights } from "../model/frozen-weights.js";

/** The first half of retrieval, per crop: S, A = Sinkhorn(S) and T = (A + Aᵀ)/2 (method §3.1–3.2). */
export interface SimilarityTensors {
  /** S [B, N², N²]: head-averaged attention of `c.extractor.attentionLayer`, class token removed. */
  similarity: Tensor;
  /** T [B, N², N²], doubly stochastic and symmetric. */
  transition: Tensor;
  /** Sinkhorn rounds each crop used, [B]. */
  iterations: Tensor;
  /** max |row or column sum − 1| of A after the last round, [B]. */
  deviation: Tensor;
}

/** S → Sinkhorn → T on the extractor's forward pass over `images` [B, 3, S, S]. */
export function similarityTensors(images: Tensor, c: MethodConfig): SimilarityTensors {
  const { attention } = extractorForward(images, c);
  const { doubly, iterations, deviation } = sinkhorn(attention, {
    maxIterations: c.retrieval.sinkhornIterations,
    tolerance: c.retrieval.sinkhornTolerance,
  });
  return { similarity: attention, transition: symmetricTransition(doubly), iterations, deviation };
}

/** Which matrices a similarity graph outputs (iterations and deviation always). */
export interface SimilarityOutputs {
  similarity?: boolean;
  /** Default true. */
  transition?: boolean;
}

/**
 * The similarity extractor as a graph over a batch of crops: input `images` [B, 3, S, S]
 * (ImageNet-normalised), outputs `iterations`, `deviation` [B] and, as asked, `similarity` and
 * `transition` [B, N², N²]. What SimilarityService serves.
 */
export function similarityGraph(
  c: MethodConfig,
  batch: number,
  outputs: SimilarityOutputs = {},
): Record<string, Tensor> {
  const images = input("images", [batch, 3, c.crop.size, c.crop.size]);
  const t = similarityTensors(images, c);
  const out: Record<string, Tensor> = { iterations: t.iterations, deviation: t.deviation };
  if (outputs.similarity) out.similarity = t.similarity;
  if (outputs.transition ?? true) out.transition = t.transition;
  return out;
}

/** Compiles {@link similarityGraph} with the extractor's weights baked in (frozen). */
export async function compileSimilarity(
  c: MethodConfig,
  parameters: ReadonlyMap<string, HostTensor>,
  batch: number,
  options: SimilarityOutputs & { runtime?: Partial<RuntimeConfig>; logger?: Logger } = {},
): Promise<CompiledGraph> {
  return compileGraph(similarityGraph(c, batch, options), {
    config: options.runtime,
    logger: options.logger,
    name: "similarity",
    lower: frozenWeights(parameters),
  });
}
