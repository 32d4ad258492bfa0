import type { RetrievalItem, RetrievePointsResponse, Image as WireImage } from "@exits/contracts";
import { cropToImage, patchCentre } from "@exits/dataset";
import { type MethodConfig, type ObjectPoints, type ObjectSet, type PointRetriever, unitProgress } from "@exits/exits";
import type { ContractClient } from "../clients/contract-client.js";
import { retrievalConfigToWire } from "../config/retrieval-config.js";
import { extremePointsToWire } from "../input/extreme-points-input.js";
import { setImageToWire } from "../input/image-input.js";
import { DataPaths } from "../paths/data-paths.js";
import { cropTransformFromWire } from "../similarity/crop-transform-wire.js";

export interface RemotePointRetrieverOptions {
  /** A ContractClient("retrieval", address). */
  client: ContractClient;
  /** The services' EXITS_DATA_DIR as seen from here: images inside it are sent by path, others as bytes. */
  dataDir?: string;
  /** Extractor model directory on the service side; "" = its default. */
  extractorModel?: string;
  /** Objects per RetrievePoints call. Default 16. */
  batch?: number;
  timeoutMs?: number;
}

/**
 * The `PointRetriever` port over RetrievalService (image items: the service cuts the canonical
 * crop and gets T from SimilarityService). What is sent from `c`: the inference margin, the
 * attention layer and Sinkhorn settings, δ, α, and the thresholds of `c`'s mode (τ_FG / τ_BG, or
 * the per-object quantile fractions). Points come back as patch indices on the crop and are
 * mapped to image coordinates as `pointsFromScores` does.
 */
export function remotePointRetriever(options: RemotePointRetrieverOptions): PointRetriever {
  const paths = options.dataDir ? new DataPaths(options.dataDir) : undefined;
  const batch = options.batch ?? 16;
  return {
    async retrieve(set: ObjectSet, c: MethodConfig, o = {}) {
      const out: ObjectPoints[] = [];
      const images = new Map<number, WireImage>();
      const n = set.objects.length;
      const progress = unitProgress(o.onProgress, "retrieval", "objects", n);
      for (let start = 0; start < n; start += batch) {
        if (o.signal?.aborted) throw o.signal.reason ?? new Error("retrieval cancelled");
        const objects = set.objects.slice(start, start + batch);
        const items: RetrievalItem[] = [];
        for (const object of objects) {
          let image = images.get(object.imageId);
          if (!image) {
            image = await setImageToWire(set, object.imageId, paths);
            // Bytes are sent once per call at most; paths are cheap to keep.
            if (image.path !== undefined) images.set(object.imageId, image);
          }
          items.push({
            extremePoints: extremePointsToWire(object.points),
            image,
            key: String(object.id),
          });
        }
        const reply = await options.client.unary<unknown, RetrievePointsResponse>(
          "retrievePoints",
          {
            items,
            config: retrievalConfigToWire(c),
            extractorModel: options.extractorModel ?? "",
            crop: { inferenceMargin: c.crop.inferenceMargin, fill: 0 },
            similarity: {
              attentionLayer: c.extractor.attentionLayer,
              sinkhorn: { maxIterations: c.retrieval.sinkhornIterations, tolerance: c.retrieval.sinkhornTolerance },
            },
            includeScores: false,
            includeDistributions: false,
            invalidPolicy: 1,
          },
          { timeoutMs: options.timeoutMs, signal: o.signal },
        );
        reply.results.forEach((r, k) => {
          const { map } = cropTransformFromWire(r.crop, `results[${k}].crop`);
          const grid = r.gridSize;
          const toImage = (i: number) => cropToImage(map, patchCentre(i % grid, Math.floor(i / grid), map.size, grid));
          out.push({
            id: objects[k]!.id,
            foreground: r.pseudoForeground.map(toImage),
            background: r.pseudoBackground.map(toImage),
            candidates: r.box.length,
          });
        });
        progress(Math.min(n, start + batch));
      }
      return out;
    },
  };
}
