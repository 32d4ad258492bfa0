import { DType, type RefineRequest, type RefineResponse } from "@exits/contracts";
import type { ObjectCrop } from "@exits/dataset";
import type { ContractClient } from "../clients/contract-client.js";
import { type CrfSettings, crfConfigToWire } from "../config/crf-config.js";
import type { CrfEngine } from "../crf/crf-engine.js";

/** One crop-level probability map and the crop it belongs to. */
export interface RefineInput {
  probabilities: Float32Array;
  crop: ObjectCrop;
}

/** crf_refine: the mean-field CRF over crop probabilities (R × R), giving refined probabilities. */
export interface CrfRefiner {
  refine(items: readonly RefineInput[], settings: CrfSettings, maskSize: number): Promise<Float32Array[]>;
}

/**
 * uint8 [R, R, 3] RGB of a crop at the map's resolution: the mean of each (S/R)² block, the
 * colours the generator's CRF loss compares (`writeDownsampledChw`), rounded to 8 bits.
 */
export function cropColours(crop: ObjectCrop, R: number): Uint8Array {
  const { image } = crop;
  const f = image.width / R;
  if (!Number.isInteger(f) || image.height !== image.width)
    throw new RangeError(`crop ${image.width}x${image.height} cannot be reduced to ${R}x${R}`);
  const out = new Uint8Array(R * R * 3);
  for (let y = 0; y < R; y++)
    for (let x = 0; x < R; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          const row = (y * f + dy) * image.width;
          for (let dx = 0; dx < f; dx++) sum += image.data[(row + x * f + dx) * 3 + c]!;
        }
        out[(y * R + x) * 3 + c] = Math.round(sum / (f * f));
      }
  return out;
}

/** The object box in the map's continuous coordinates (crop box scaled from S to R). */
export function boxInMap(crop: ObjectCrop, R: number) {
  const s = R / crop.map.size;
  const b = crop.boxInCrop;
  return { x0: b.x0 * s, y0: b.y0 * s, x1: b.x1 * s, y1: b.y1 * s };
}

/** The Refine request CrfService takes for `items` (colours and box at the map's resolution R). */
function refineRequest(items: readonly RefineInput[], settings: CrfSettings, R: number): RefineRequest {
  return {
    items: items.map((item, k) => ({
      probabilities: {
        shape: [R, R],
        dtype: DType.DTYPE_FLOAT32,
        data: new Uint8Array(item.probabilities.buffer, item.probabilities.byteOffset, item.probabilities.byteLength),
      },
      colours: { rgb: { shape: [R, R, 3], dtype: DType.DTYPE_UINT8, data: cropColours(item.crop, R) } },
      box: boxInMap(item.crop, R),
      key: String(k),
    })),
    config: crfConfigToWire(settings),
    includeProbabilities: true,
    fill: 0,
  };
}

function refinedProbabilities(reply: RefineResponse, R: number): Float32Array[] {
  return reply.results.map((r) => {
    const copy = new Uint8Array(r.probabilities!.data);
    return new Float32Array(copy.buffer, 0, R * R);
  });
}

/** crf_refine through CrfService (EXITS_CRF_ADDRESS): one Refine call per image's objects. */
export function remoteCrfRefiner(client: ContractClient, timeoutMs = 60_000): CrfRefiner {
  return {
    async refine(items, settings, R) {
      const request = refineRequest(items, settings, R);
      return refinedProbabilities(
        await client.unary<RefineRequest, RefineResponse>("refine", request, { timeoutMs }),
        R,
      );
    },
  };
}

/** crf_refine in this process: the same request through CrfService's engine, no network. */
export function inProcessCrfRefiner(engine: CrfEngine): CrfRefiner {
  return {
    async refine(items, settings, R) {
      return refinedProbabilities(await engine.refine(refineRequest(items, settings, R)), R);
    },
  };
}
