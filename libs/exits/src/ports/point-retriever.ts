import type { Logger } from "@exits/base";
import type { HostTensor, RuntimeConfig } from "@exits/runtime";
import type { MethodConfig } from "../config/method-config.js";
import type { ObjectSet } from "../data/object-set.js";
import type { ObjectPoints } from "../retrieval/point-labels.js";
import { retrievePoints } from "../retrieval/retrieve-points.js";
import type { ProgressListener } from "../training/progress.js";

/**
 * Port (design.md, "Ports and adapters"): a frozen extractor's pseudo points for every object of
 * a set, in image coordinates, at `c.retrieval`. The generator's training depends on this; the
 * embedded default runs the retrieval graph in process, a cluster wires a RetrievalService
 * client (libs/serving) that gets T from the SimilarityService.
 */
export interface PointRetriever {
  retrieve(
    set: ObjectSet,
    c: MethodConfig,
    options?: { onProgress?: ProgressListener; signal?: AbortSignal },
  ): Promise<ObjectPoints[]>;
}

/** The embedded `PointRetriever`: the extractor's weights in this process. */
export function inProcessPointRetriever(
  extractor: ReadonlyMap<string, HostTensor>,
  options: { runtime?: Partial<RuntimeConfig>; logger?: Logger } = {},
): PointRetriever {
  return {
    async retrieve(set, c, o = {}) {
      return (await retrievePoints(set, extractor, c, { ...options, ...o })).points;
    },
  };
}
