import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { DatasetRef } from "@exits/contracts";
import { ObjectSet } from "@exits/exits";
import { InvalidArgumentError, NotFoundError } from "@exits/platform";
import { present } from "../config/index.js";
import type { DataPaths } from "../paths/data-paths.js";

/** A DatasetRef with its paths checked, as client paths (absolute ones are re-derived at run time). */
export interface ResolvedDataset {
  annotations: string;
  imagesDir: string;
  categoryIds: number[];
  maxAnnotations: number;
}

/** Checks a DatasetRef at `field` (e.g. "spec.extractor.dataset"): paths inside the data dir, files present. */
export function resolveDatasetRef(
  paths: DataPaths,
  ref: DatasetRef | null | undefined,
  field: string,
): ResolvedDataset {
  const r = present(ref);
  if (!r || r.annotations === "") throw new InvalidArgumentError(`${field}.annotations`, "is required");
  const annotations = paths.resolve(`${field}.annotations`, r.annotations);
  if (!existsSync(annotations) || !statSync(annotations).isFile())
    throw new NotFoundError(`${field}.annotations "${r.annotations}"`);
  const imagesDir = r.imagesDir === "" ? dirname(annotations) : paths.resolve(`${field}.images_dir`, r.imagesDir);
  if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory())
    throw new NotFoundError(`${field}.images_dir "${r.imagesDir}"`);
  for (const [i, id] of (r.categoryIds ?? []).entries())
    if (!Number.isInteger(id) || id < 0) throw new InvalidArgumentError(`${field}.category_ids[${i}]`, `bad id ${id}`);
  return {
    annotations: paths.toClient(annotations),
    imagesDir: paths.toClient(imagesDir),
    categoryIds: [...(r.categoryIds ?? [])],
    maxAnnotations: r.maxAnnotations ?? 0,
  };
}

/**
 * Reads the dataset: COCO errors are INVALID_ARGUMENT naming the field, every image's `file_name`
 * must stay inside the data directory, and the category / count filters apply (first by id).
 */
export async function readDataset(
  paths: DataPaths,
  d: ResolvedDataset,
  field: string,
  options: { groundTruth?: boolean } = {},
): Promise<ObjectSet> {
  const annotations = paths.resolve(`${field}.annotations`, d.annotations);
  const imagesDir = paths.resolve(`${field}.images_dir`, d.imagesDir, { allowEmpty: true });
  let set: ObjectSet;
  try {
    set = await ObjectSet.read(annotations, imagesDir, { points: options.groundTruth ? "auto" : "annotation" });
  } catch (e) {
    throw new InvalidArgumentError(`${field}.annotations`, (e as Error).message.replaceAll(paths.root, "<data>"));
  }
  for (const image of set.images.values()) {
    const path = paths.resolveUnder(
      `${field}.annotations: images[id=${image.id}].file_name`,
      imagesDir,
      image.file_name,
    );
    if (!existsSync(path)) throw new NotFoundError(`${field}: image "${image.file_name}" (id ${image.id})`);
  }
  const categories = new Set(d.categoryIds);
  let objects = [...set.objects]
    .filter((o) => categories.size === 0 || categories.has(o.categoryId))
    .sort((a, b) => a.id - b.id);
  if (options.groundTruth) objects = objects.filter((o) => o.groundTruth !== undefined);
  if (d.maxAnnotations > 0) objects = objects.slice(0, d.maxAnnotations);
  if (objects.length === 0)
    throw new InvalidArgumentError(
      `${field}.annotations`,
      `holds no usable annotation${options.groundTruth ? " with a ground-truth segmentation" : ""}${categories.size ? " in category_ids" : ""}`,
    );
  return set.subset(objects);
}
