import { writeFileAtomic } from "@exits/base";
import { type BinaryMask, CocoWriter, exportAnnotation, type ObjectCrop, pasteProbabilities } from "@exits/dataset";
import { gridOf, type MethodConfig } from "../config/method-config.js";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import { canonicalCrop } from "../data/training-crop.js";
import type { ProgressListener } from "../training/progress.js";

/** One generated mask, as the export wrote it. */
export interface GeneratedMask {
  object: MethodObject;
  mask: BinaryMask;
  score: number;
}

/** What the export needs of a generator: crops in, R × R probabilities out (see `MaskPredictor`). */
export interface CropPredictor {
  readonly batch: number;
  predict(crops: readonly ObjectCrop[]): Promise<Float32Array[]>;
}

export interface ExportOptions {
  /** The output COCO file (must end in `.json`); its manifest is written beside it. */
  output: string;
  /** Recorded in the manifest: models, inputs, versions. */
  manifest: Record<string, unknown>;
  onProgress?: ProgressListener;
  /** Called with every generated mask (evaluation, pictures) while the file is written. */
  onMask?: (m: GeneratedMask) => void;
  signal?: AbortSignal;
}

/**
 * Stage two (method §5): for every object, the canonical crop, the generator's probabilities
 * multiplied by the box, pasted into the full image, thresholded and encoded as COCO RLE; the
 * input's images and categories unchanged. The score is the mean probability over the mask's
 * pixels (0 for an empty mask). The file appears atomically, followed by
 * `<output minus .json>.manifest.json`.
 */
export async function exportDataset(
  set: ObjectSet,
  predictor: CropPredictor,
  c: MethodConfig,
  options: ExportOptions,
): Promise<{ output: string; manifestPath: string; annotations: number }> {
  const { maskSize: R } = gridOf(c);
  const writer = await CocoWriter.open(options.output, set.dataset);
  const n = set.objects.length;
  const t0 = performance.now();
  try {
    for (let start = 0; start < n; start += predictor.batch) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error("export cancelled");
      const objects = set.objects.slice(start, start + predictor.batch);
      const crops = [];
      for (const o of objects) crops.push(canonicalCrop(await set.pixels(o.imageId), o.points, c));
      const probs = await predictor.predict(crops);
      for (let k = 0; k < objects.length; k++) {
        const o = objects[k]!;
        const crop = crops[k]!;
        const { width, height } = set.image(o.imageId);
        const map = { size: R, data: probs[k]! };
        const full = pasteProbabilities(map, crop.map, crop.box, width, height);
        const mask: BinaryMask = { width, height, data: new Uint8Array(full.length) };
        let sum = 0;
        let count = 0;
        for (let p = 0; p < full.length; p++) {
          if (full[p]! >= c.export.threshold) {
            mask.data[p] = 1;
            sum += full[p]!;
            count++;
          }
        }
        const score = count ? sum / count : 0;
        await writer.write({
          ...o.source,
          ...exportAnnotation(
            { id: o.id, image_id: o.imageId, category_id: o.categoryId, extreme_points: o.points },
            mask,
            score,
          ),
        });
        options.onMask?.({ object: o, mask, score });
      }
      const done = Math.min(n, start + predictor.batch);
      const elapsed = (performance.now() - t0) / 1000;
      options.onProgress?.({
        stage: "export",
        done,
        total: n,
        unit: "objects",
        etaSeconds: ((n - done) * elapsed) / done,
        itemsPerSecond: done / elapsed,
      });
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const manifestPath = options.output.replace(/\.json$/, ".manifest.json");
  await writeFileAtomic(
    manifestPath,
    `${JSON.stringify({ format: "exits-export", version: 1, createdAt: new Date().toISOString(), output: options.output, annotations: n, config: c, ...options.manifest }, null, 2)}\n`,
  );
  return { output: options.output, manifestPath, annotations: n };
}
