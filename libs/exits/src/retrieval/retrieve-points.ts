import type { Logger } from "@exits/base";
import { cropToImage, type ObjectCrop, patchCentre } from "@exits/dataset";
import type { HostTensor, RuntimeConfig } from "@exits/runtime";
import { gridOf, type MethodConfig, type RetrievalConfig } from "../config/method-config.js";
import { writeNormalisedChw } from "../data/crop-tensors.js";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import { canonicalCrop } from "../data/training-crop.js";
import { type ProgressListener, unitProgress } from "../training/progress.js";
import type { ObjectPoints } from "./point-labels.js";
import { compileRetrieval } from "./retrieval-graph.js";
import { type CropSeeds, cropSeeds, seedDistributions } from "./seeds.js";
import { selectPatches } from "./select-points.js";

/** Retrieval scores of one object on its canonical crop, per δ and α (what a sweep thresholds). */
export interface ObjectScores {
  object: MethodObject;
  crop: ObjectCrop;
  /** By δ: the seeds, and by α the N²-scaled score of every patch. */
  byDelta: Map<number, { seeds: CropSeeds; byAlpha: Map<number, Float32Array> }>;
  /** Sinkhorn rounds used and the final max |sum − 1| (one value per object: S does not depend on δ). */
  sinkhornIterations: number;
  sinkhornDeviation: number;
}

export interface ScoreOptions {
  deltas?: readonly number[];
  alphas?: readonly number[];
  batch?: number;
  runtime?: Partial<RuntimeConfig>;
  logger?: Logger;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/**
 * Runs the frozen extractor's retrieval graph over every object's canonical crop (inference
 * margin, no flip), batched, for each seed offset δ and walk length α asked for.
 */
export async function retrievalScores(
  set: ObjectSet,
  extractor: ReadonlyMap<string, HostTensor>,
  c: MethodConfig,
  options: ScoreOptions = {},
): Promise<ObjectScores[]> {
  const { grid } = gridOf(c);
  const m = grid * grid;
  const S = c.crop.size;
  const deltas = options.deltas ?? [c.retrieval.delta];
  const alphas = options.alphas ?? [c.retrieval.alpha];
  const n = set.objects.length;
  const batch = Math.max(1, Math.min(options.batch ?? c.export.batch, n));
  const graph = await compileRetrieval(c, extractor, batch, alphas, options);
  const out: ObjectScores[] = [];
  const progress = unitProgress(options.onProgress, "retrieval", "objects", n);
  try {
    for (let start = 0; start < n; start += batch) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error("retrieval cancelled");
      const objects = set.objects.slice(start, start + batch);
      const crops: ObjectCrop[] = [];
      const images = new Float32Array(batch * 3 * S * S);
      for (let k = 0; k < batch; k++) {
        const o = objects[Math.min(k, objects.length - 1)]!; // the last batch is padded with its last object
        const crop = canonicalCrop(await set.pixels(o.imageId), o.points, c);
        if (k < objects.length) crops.push(crop);
        writeNormalisedChw(crop.image, images, k * 3 * S * S);
      }
      const records: ObjectScores[] = objects.map((object, k) => ({
        object,
        crop: crops[k]!,
        byDelta: new Map(),
        sinkhornIterations: 0,
        sinkhornDeviation: 0,
      }));
      for (const delta of deltas) {
        const seeds = crops.map((crop) => cropSeeds(crop, grid, delta));
        const seedData = new Float32Array(batch * 2 * m);
        for (let k = 0; k < batch; k++) seedDistributions(seeds[Math.min(k, seeds.length - 1)]!, seedData, k * 2 * m);
        const result = await graph.run({
          images: { dtype: "float32", shape: [batch, 3, S, S], data: images },
          seeds: { dtype: "float32", shape: [batch, 2, m], data: seedData },
        });
        records.forEach((r, k) => {
          const byAlpha = new Map<number, Float32Array>();
          for (const alpha of alphas)
            byAlpha.set(alpha, (result[`score:${alpha}`]!.data as Float32Array).slice(k * m, (k + 1) * m));
          r.byDelta.set(delta, { seeds: seeds[k]!, byAlpha });
          r.sinkhornIterations = (result.iterations!.data as Float32Array)[k]!;
          r.sinkhornDeviation = (result.deviation!.data as Float32Array)[k]!;
        });
      }
      out.push(...records);
      progress(Math.min(n, start + batch));
    }
  } finally {
    await graph.release();
  }
  return out;
}

/** Thresholds one object's scores into pseudo points kept in IMAGE coordinates (patch centres mapped back). */
export function pointsFromScores(
  s: ObjectScores,
  r: Pick<RetrievalConfig, "delta" | "alpha" | "mode" | "tauFg" | "tauBg" | "fgFraction" | "bgFraction">,
): ObjectPoints {
  const entry = s.byDelta.get(r.delta);
  const score = entry?.byAlpha.get(r.alpha);
  if (!entry || !score) throw new Error(`no retrieval scores for δ=${r.delta}, α=${r.alpha}`);
  const picked = selectPatches(score, entry.seeds, r);
  const grid = entry.seeds.grid;
  const toImage = (i: number) =>
    cropToImage(s.crop.map, patchCentre(i % grid, Math.floor(i / grid), s.crop.map.size, grid));
  return {
    id: s.object.id,
    foreground: picked.foreground.map(toImage),
    background: picked.background.map(toImage),
    candidates: picked.candidates,
  };
}

/** Retrieval as the generator needs it: one set of pseudo points per object, at the configured δ and α. */
export async function retrievePoints(
  set: ObjectSet,
  extractor: ReadonlyMap<string, HostTensor>,
  c: MethodConfig,
  options: Omit<ScoreOptions, "deltas" | "alphas"> = {},
): Promise<{ points: ObjectPoints[]; scores: ObjectScores[] }> {
  const scores = await retrievalScores(set, extractor, c, options);
  return { points: scores.map((s) => pointsFromScores(s, c.retrieval)), scores };
}
