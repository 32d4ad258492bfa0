import { MaskInputError } from "../mask/mask-input-error.js";
import { extremePointProblems } from "../points/extreme-point-checks.js";
import type { ExtremePoints } from "../points/extreme-points.js";
import { type ExtremeSimulationOptions, extremePointsFromMask } from "../points/extreme-points-from-mask.js";
import { cocoImageProblem, imageFileProblem } from "./coco-image.js";
import { CocoInputError } from "./coco-input-error.js";
import { readCocoAnnotations, readCocoDataset } from "./coco-reader.js";
import type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage } from "./coco-types.js";
import { checkSegmentation, segmentationToMask } from "./segmentation.js";

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
  /**
   * Image directory: when given, each image file's header is read once; a missing file, or one
   * whose size differs from the entry's `width` / `height`, is an error for its annotations.
   */
  imageDir?: string;
  /** "throw" (default) stops at the first malformed annotation; "skip" reports and goes on. */
  onInvalid?: "throw" | "skip";
  /** Keep crowd annotations (default false: they are counted in `report.crowd` and left out). */
  includeCrowd?: boolean;
  /** Tolerance for extreme points vs the annotation's bbox (see `extremePointProblems`). */
  bboxTolerance?: number;
  /**
   * How points are simulated from masks (`extremePointsFromMask`): by default the ExtremeNet
   * band midpoint snapped onto the object ("snapped"); `{ snap: false }` is the raw midpoint rule.
   */
  simulation?: ExtremeSimulationOptions;
}

/** What a batch read saw; filled while the objects are iterated. */
export interface CocoObjectReport {
  file: string;
  read: number;
  yielded: number;
  crowd: number;
  /** Entries left out with `onInvalid: "skip"` (annotations, images, categories), each named. */
  skipped: CocoInputError[];
}

/** A problem with one annotation: the field it is in, what is wrong, the image if it is its. */
type Problem = [field: string, problem: string, imageId?: number];

/**
 * Reads a COCO instance file as objects in two streaming passes (header, then annotations, so
 * that categories listed after the annotations are known), checking each annotation: unknown
 * image or category, a missing image file or one whose size is not the entry's `width` /
 * `height`, a bbox that is not four finite numbers with non-negative width and height, wrong
 * number of extreme points, points outside the image, an order that contradicts the box, points
 * far from the annotation's bbox, a segmentation that cannot be read (checked whenever present,
 * even when the points come from the annotation: it is kept as ground truth). Malformed `images`
 * and `categories` entries are checked too. Each problem becomes a `CocoInputError` naming the
 * file, the annotation or image id and the field, thrown or skipped-and-reported.
 */
export async function readCocoObjects(
  file: string,
  options: CocoObjectOptions = {},
): Promise<{ dataset: CocoDataset; objects: AsyncGenerator<CocoObject>; report: CocoObjectReport }> {
  const dataset = await readCocoDataset(file);
  const report: CocoObjectReport = { file, read: 0, yielded: 0, crowd: 0, skipped: [] };
  const fail = (error: CocoInputError) => {
    if (options.onInvalid !== "skip") throw error;
    report.skipped.push(error);
  };
  const images = new Map<number, CocoImage>();
  for (const [i, entry] of dataset.images.entries()) {
    const problem = cocoImageProblem(entry);
    const id: unknown = (entry as { id?: unknown } | null)?.id;
    if (problem) {
      const where = problem[0] !== "id" && typeof id === "number" ? { imageId: id } : { entry: `images[${i}]` };
      fail(new CocoInputError(file, undefined, problem[1], { ...where, field: problem[0] || undefined }));
    } else if (images.has(entry.id)) {
      fail(new CocoInputError(file, undefined, "appears twice in images", { imageId: entry.id, field: "id" }));
    } else images.set(entry.id, entry);
  }
  const categories = new Map<number, CocoCategory>();
  for (const [i, entry] of dataset.categories.entries()) {
    if (typeof entry === "object" && entry !== null && typeof entry.id === "number") categories.set(entry.id, entry);
    else fail(new CocoInputError(file, undefined, "is not an object with a numeric id", { entry: `categories[${i}]` }));
  }
  const fileChecks = new Map<number, Promise<Problem | undefined>>();
  const source = options.extremePoints ?? "auto";

  async function check(a: CocoAnnotation): Promise<CocoObject | Problem> {
    if (typeof a.id !== "number" || !Number.isFinite(a.id)) return ["id", "annotation has no numeric id"];
    const image = images.get(a.image_id);
    if (!image) return ["image_id", `${JSON.stringify(a.image_id)} is not the id of any image`];
    const category = categories.get(a.category_id);
    if (!category) return ["category_id", `${JSON.stringify(a.category_id)} is not the id of any category`];
    if (options.imageDir) {
      const imageDir = options.imageDir;
      let fileCheck = fileChecks.get(image.id);
      if (!fileCheck) {
        fileCheck = imageFileProblem(imageDir, image);
        fileChecks.set(image.id, fileCheck);
      }
      const problem = await fileCheck;
      if (problem) return [problem[0], problem[1], image.id];
    }
    const bbox: unknown = a.bbox;
    if (bbox !== undefined) {
      if (!(Array.isArray(bbox) && bbox.length === 4 && bbox.every((v) => typeof v === "number" && Number.isFinite(v))))
        return ["bbox", `is not [x, y, w, h] with finite numbers: ${JSON.stringify(bbox)}`];
      if (bbox[2] < 0 || bbox[3] < 0) return ["bbox", `width ${bbox[2]} and height ${bbox[3]} must not be negative`];
    }
    const fromAnnotation = source === "annotation" || (source === "auto" && a.extreme_points !== undefined);
    let points: ExtremePoints | undefined;
    try {
      if (a.segmentation !== undefined) checkSegmentation(a.segmentation, image.height, image.width);
      if (!fromAnnotation) {
        if (a.segmentation === undefined) return ["segmentation", "is absent: no mask to simulate extreme points from"];
        points = extremePointsFromMask(
          segmentationToMask(a.segmentation, image.height, image.width),
          options.simulation,
        );
        if (!points) return ["segmentation", "gives an empty mask: no extreme points"];
      }
    } catch (e) {
      if (e instanceof MaskInputError) return [e.field, e.problem];
      throw e;
    }
    if (fromAnnotation) {
      const problems = extremePointProblems(a.extreme_points, {
        image,
        bbox: a.bbox,
        tolerance: options.bboxTolerance,
      });
      if (problems.length) return ["extreme_points", problems.join("; ")];
      points = a.extreme_points;
    }
    return { annotation: a, image, category, extremePoints: points! };
  }

  async function* objects(): AsyncGenerator<CocoObject> {
    for await (const a of readCocoAnnotations(file)) {
      report.read++;
      if (typeof a !== "object" || a === null || Array.isArray(a)) {
        fail(new CocoInputError(file, undefined, `annotation #${report.read} is not an object`));
        continue;
      }
      if (a.iscrowd && !options.includeCrowd) {
        report.crowd++;
        continue;
      }
      const result = await check(a);
      if (Array.isArray(result)) {
        const id = typeof a.id === "number" ? a.id : undefined;
        fail(new CocoInputError(file, id, result[1], { field: result[0], imageId: result[2] }));
        continue;
      }
      report.yielded++;
      yield result;
    }
  }
  return { dataset, objects: objects(), report };
}
