import { writeFileAtomic } from "@exits/base";
import { type BinaryMask, CocoWriter, exportAnnotation } from "@exits/dataset";
import type { MethodConfig } from "../config/method-config.js";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import type { ObjectMaskPredictor } from "../ports/object-mask-predictor.js";
import { type ProgressListener, unitProgress } from "../training/progress.js";
import { type CropPredictor, cropMaskPredictor } from "./crop-mask-predictor.js";

/** One generated mask, as the export wrote it. */
export interface GeneratedMask {
  object: MethodObject;
  mask: BinaryMask;
  score: number;
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
 * Stage two (method §5): every object's pseudo mask (from the `ObjectMaskPredictor` port, or an
 * in-process `CropPredictor` through `cropMaskPredictor`: canonical crop, probabilities pasted
 * into the full image, thresholded) encoded as COCO RLE with its score; the input's images and
 * categories unchanged. The file appears atomically, followed by
 * `<output minus .json>.manifest.json`.
 */
export async function exportDataset(
  set: ObjectSet,
  masks: ObjectMaskPredictor | CropPredictor,
  c: MethodConfig,
  options: ExportOptions,
): Promise<{ output: string; manifestPath: string; annotations: number }> {
  const predictor = "predictObjects" in masks ? masks : cropMaskPredictor(masks, c);
  const writer = await CocoWriter.open(options.output, set.dataset);
  const n = set.objects.length;
  const progress = unitProgress(options.onProgress, "export", "objects", n);
  try {
    for (let start = 0; start < n; start += predictor.batch) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error("export cancelled");
      const objects = set.objects.slice(start, start + predictor.batch);
      const masks = await predictor.predictObjects(set, objects);
      for (let k = 0; k < objects.length; k++) {
        const o = objects[k]!;
        const { mask, score } = masks[k]!;
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
      progress(Math.min(n, start + predictor.batch));
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
