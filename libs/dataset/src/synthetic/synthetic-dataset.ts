import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage } from "../coco/coco-types.js";
import { writeCocoFile } from "../coco/coco-writer.js";
import { writeImage } from "../image/encode-image.js";
import { encodeMask, rleArea, rleToBbox } from "../mask/rle-ops.js";
import { extremePointsFromMask } from "../points/extreme-points-from-mask.js";
import { mixSeed } from "./mix-seed.js";
import { DEFAULT_SCENE_OPTIONS, generateScene, type SceneOptions } from "./scene.js";
import { SHAPE_FAMILIES } from "./shapes.js";

export interface SyntheticDatasetOptions {
  /** Output directory: `images/` and `annotations.json` are written inside. */
  out: string;
  images: number;
  seed: number;
  format?: "png" | "jpg";
  /** JPEG quality when format is "jpg" (default 90). */
  quality?: number;
  scene?: Partial<SceneOptions>;
  /** Called after each image (for progress output). */
  onImage?: (done: number, total: number) => void;
}

export interface SyntheticDatasetSummary {
  annotationsFile: string;
  imageDir: string;
  images: number;
  objects: number;
  /** Objects whose visible mask has ≥ 2 parts, and those split on purpose by an occluding bar. */
  separated: number;
  splitByOccluder: number;
  touching: number;
  overlapping: number;
}

/** The categories: one per shape family, ids from 1 in `SHAPE_FAMILIES` order. */
export const SYNTHETIC_CATEGORIES: CocoCategory[] = SHAPE_FAMILIES.map((name, i) => ({
  id: i + 1,
  name,
  supercategory: "shape",
}));

/**
 * Writes a synthetic benchmark: image i is generated from `mixSeed(seed, i)`, so any image can be
 * regenerated alone and a larger set extends a smaller one with the same seed. Annotations carry
 * the VISIBLE mask as compressed RLE (`segmentation`), `area` (mask pixels), `bbox` (of the mask),
 * `extreme_points` (ExtremeNet rule on the visible mask), and, for analysis, `num_parts`,
 * `separated` (≥ 2 parts), `split_by_occluder` and `placement`.
 */
export async function writeSyntheticDataset(options: SyntheticDatasetOptions): Promise<SyntheticDatasetSummary> {
  if (!Number.isInteger(options.images) || options.images < 0) throw new RangeError(`images must be ≥ 0`);
  const format = options.format ?? "png";
  const sceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...options.scene };
  const imageDir = join(options.out, "images");
  await mkdir(imageDir, { recursive: true });
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  const summary = { objects: 0, separated: 0, splitByOccluder: 0, touching: 0, overlapping: 0 };
  for (let i = 0; i < options.images; i++) {
    const seed = mixSeed(options.seed, i);
    const scene = generateScene(seed, sceneOptions);
    const fileName = `${String(i + 1).padStart(6, "0")}.${format}`;
    await writeImage(join(imageDir, fileName), scene.image, { quality: options.quality ?? 90 });
    images.push({ id: i + 1, file_name: fileName, width: scene.image.width, height: scene.image.height, seed });
    for (const object of scene.objects) {
      const rle = encodeMask(object.mask);
      const points = extremePointsFromMask(object.mask);
      if (!points) continue;
      annotations.push({
        id: annotations.length + 1,
        image_id: i + 1,
        category_id: SHAPE_FAMILIES.indexOf(object.family) + 1,
        segmentation: rle,
        area: rleArea(rle),
        bbox: rleToBbox(rle),
        iscrowd: 0,
        extreme_points: points,
        num_parts: object.parts,
        separated: object.parts >= 2,
        split_by_occluder: object.splitByOccluder,
        placement: object.placement,
      });
      summary.objects++;
      if (object.parts >= 2) summary.separated++;
      if (object.splitByOccluder) summary.splitByOccluder++;
      if (object.placement === "touching") summary.touching++;
      if (object.placement === "overlapping") summary.overlapping++;
    }
    options.onImage?.(i + 1, options.images);
  }
  const dataset: CocoDataset = {
    info: {
      description: "exits synthetic benchmark (visible masks; objects split by occluders)",
      generator: "@exits/dataset writeSyntheticDataset",
      seed: options.seed,
      images: options.images,
      format,
      scene: sceneOptions,
    },
    images,
    categories: SYNTHETIC_CATEGORIES,
  };
  const annotationsFile = join(options.out, "annotations.json");
  await writeCocoFile(annotationsFile, dataset, annotations);
  const result = { annotationsFile, imageDir, images: options.images, ...summary };
  const manifest = join(options.out, "manifest.json");
  await writeFileAtomic(manifest, `${JSON.stringify({ ...(dataset.info as object), summary: result }, null, 2)}\n`);
  return result;
}
