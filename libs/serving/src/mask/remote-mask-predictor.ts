import {
  type ImageObjects,
  InvalidPolicy,
  type PredictConfig,
  type PredictMasksRequest,
  type PredictMasksResponse,
} from "@exits/contracts";
import { decodeRle } from "@exits/dataset";
import type { MethodObject, ObjectMask, ObjectMaskPredictor, ObjectSet } from "@exits/exits";
import type { ContractClient } from "../clients/contract-client.js";
import { extremePointsToWire } from "../input/extreme-points-input.js";
import { setImageToWire } from "../input/image-input.js";
import { DataPaths } from "../paths/data-paths.js";

export interface RemoteMaskPredictorOptions {
  /**
   * The MaskService's EXITS_DATA_DIR as seen from here: images inside it are sent by path (the
   * service reads them), others as encoded bytes. Unset = always bytes.
   */
  dataDir?: string;
  /** Objects per PredictMasks call (the export groups objects by this). Default 64. */
  batch?: number;
  /** Generator model path inside the service's data directory; "" = its default. */
  model?: string;
  config?: PredictConfig;
  timeoutMs?: number;
}

/**
 * The ObjectMaskPredictor port over gRPC (design.md "Ports and adapters"): a set's objects,
 * grouped by image in first-seen order, as one PredictMasks call; each RLE decoded back into a
 * BinaryMask. Bad objects fail the call (INVALID_POLICY_REJECT), as the embedded predictor throws.
 */
export function remoteMaskPredictor(
  client: ContractClient,
  options: RemoteMaskPredictorOptions = {},
): ObjectMaskPredictor {
  const paths = options.dataDir ? new DataPaths(options.dataDir) : undefined;
  return {
    batch: options.batch ?? 64,
    async predictObjects(set: ObjectSet, objects: readonly MethodObject[]): Promise<ObjectMask[]> {
      const groups = new Map<number, number[]>();
      objects.forEach((o, k) => {
        const list = groups.get(o.imageId) ?? [];
        list.push(k);
        groups.set(o.imageId, list);
      });
      const images: ImageObjects[] = [];
      for (const [imageId, indices] of groups)
        images.push({
          image: await setImageToWire(set, imageId, paths),
          key: String(imageId),
          objects: indices.map((k) => {
            return {
              extremePoints: extremePointsToWire(objects[k]!.points),
              categoryId: objects[k]!.categoryId,
              key: String(objects[k]!.id),
            };
          }),
        });
      const request: PredictMasksRequest = {
        images,
        model: options.model ?? "",
        config: options.config,
        includeProbabilities: false,
        invalidPolicy: InvalidPolicy.INVALID_POLICY_REJECT,
      };
      const reply = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request, {
        timeoutMs: options.timeoutMs ?? 120_000,
      });
      const out: ObjectMask[] = new Array(objects.length);
      const order = [...groups.values()];
      reply.images.forEach((image, i) => {
        image.masks.forEach((m, j) => {
          const k = order[i]![j]!;
          const rle = m.rle!;
          const mask = decodeRle({ size: [rle.size[0]!, rle.size[1]!], counts: rle.counts });
          out[k] = { mask, score: m.score };
        });
      });
      return out;
    },
  };
}
