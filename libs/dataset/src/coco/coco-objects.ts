import { access } from "node:fs/promises";
import { join } from "node:path";
import { extremePointProblems } from "../points/extreme-point-checks.js";
import type { ExtremePoints } from "../points/extreme-points.js";
import { extremePointsFromMask } from "../points/extreme-points-from-mask.js";
import { CocoInputError } from "./coco-input-error.js";
import { readCocoAnnotations, readCocoDataset } from "./coco-reader.js";
import type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage } from "./coco-types.js";
import { segmentationToMask } from "./segmentation.js";

/** One object ready for the method: its annotation, image, category and extreme points. */
export interface CocoObject {
  annotation: CocoAnnotation;
  image: CocoImage;
  category: CocoCategory;
  extremePoints: ExtremePoints;
}

/** Options of `readCocoObjects`. */
export interface CocoObjectOptions {
  /**
   * Where extreme points come from: "annotation" (the `extreme_points` field, required),
   * "mask" (simulated from the ground-truth segmentation with the ExtremeNet rule), or "auto"
   * (the field when present, else simulated). Default "auto".
   */
  extremePoints?: "annotation" | "mask" | "auto";
  /** Image directory: when given, an image file that does not exist is an error. */
  imageDir?: string;
  /** "throw" (default) stops at the first malformed annotation; "skip" reports and goes on. */
  onInvalid?: "throw" | "skip";
  /** Keep crowd annotations (default false: they are counted in `report.crowd` and left out). */
  includeCrowd?: boolean;
  /** Tolerance for extreme points vs the annotation's bbox (see `extremePointProblems`). */
  bboxTolerance?: number;
}

/** What a batch read saw; filled while the objects are iterated. */
export interface CocoObjectReport {
  file: string;
  read: number;
  yielded: number;
  crowd: number;
  /** Annotations left out with `onInvalid: "skip"`, each naming the file, id and problem. */
  skipped: CocoInputError[];
}

/**
 * Reads a COCO instance file as objects in two streaming passes (header, then annotations, so
 * that categories listed after the annotations are known), checking each annotation: unknown
 * image or category, missing image file, wrong number of extreme points, points outside the
 * image, an order that contradicts the box, points far from the annotation's bbox, an
 * unreadable segmentation. Each problem becomes a `CocoInputError`, thrown or skipped-and-reported.
 */
export async function readCocoObjects(
  file: string,
  options: CocoObjectOptions = {},
): Promise<{ dataset: CocoDataset; objects: AsyncGenerator<CocoObject>; report: CocoObjectReport }> {
  const dataset = await readCocoDataset(file);
  const images = new Map(dataset.images.map((i) => [i.id, i]));
  const categories = new Map(dataset.categories.map((c) => [c.id, c]));
  const report: CocoObjectReport = { file, read: 0, yielded: 0, crowd: 0, skipped: [] };
  const fileChecks = new Map<number, Promise<boolean>>();
  const source = options.extremePoints ?? "auto";

  async function check(a: CocoAnnotation): Promise<CocoObject | string> {
    if (typeof a.id !== "number") return "annotation has no numeric id";
    const image = images.get(a.image_id);
    if (!image) return `unknown image_id ${a.image_id}`;
    const category = categories.get(a.category_id);
    if (!category) return `unknown category_id ${a.category_id}`;
    if (options.imageDir) {
      let exists = fileChecks.get(image.id);
      if (!exists) {
        exists = access(join(options.imageDir, image.file_name)).then(
          () => true,
          () => false,
        );
        fileChecks.set(image.id, exists);
      }
      if (!(await exists))
        return `image file ${join(options.imageDir, image.file_name)} is missing (image ${image.id})`;
    }
    let points: ExtremePoints | undefined;
    const bbox = a.bbox;
    if (bbox !== undefined && !(Array.isArray(bbox) && bbox.length === 4 && bbox.every(Number.isFinite))) {
      return `bbox is not [x, y, w, h]: ${JSON.stringify(bbox)}`;
    }
    if (source === "annotation" || (source === "auto" && a.extreme_points !== undefined)) {
      const problems = extremePointProblems(a.extreme_points, {
        image,
        bbox: a.bbox,
        tolerance: options.bboxTolerance,
      });
      if (problems.length) return problems.join("; ");
      points = a.extreme_points;
    } else {
      if (a.segmentation === undefined) return "no segmentation to simulate extreme points from";
      try {
        points = extremePointsFromMask(segmentationToMask(a.segmentation, image.height, image.width));
      } catch (e) {
        return `bad segmentation: ${(e as Error).message}`;
      }
      if (!points) return "empty ground-truth mask: no extreme points";
    }
    return { annotation: a, image, category, extremePoints: points! };
  }

  async function* objects(): AsyncGenerator<CocoObject> {
    for await (const a of readCocoAnnotations(file)) {
      report.read++;
      if (typeof a !== "object" || a === null || Array.isArray(a)) {
        const error = new CocoInputError(file, undefined, `annotation #${report.read} is not an object`);
        if (options.onInvalid !== "skip") throw error;
        report.skipped.push(error);
        continue;
      }
      if (a.iscrowd && !options.includeCrowd) {
        report.crowd++;
        continue;
      }
      const result = await check(a);
      if (typeof result === "string") {
        const error = new CocoInputError(file, a.id, result);
        if (options.onInvalid !== "skip") throw error;
        report.skipped.push(error);
        continue;
      }
      report.yielded++;
      yield result;
    }
  }
  return { dataset, objects: objects(), report };
}
