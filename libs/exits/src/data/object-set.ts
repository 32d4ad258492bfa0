import {
  type CocoCategory,
  type CocoDataset,
  type CocoImage,
  type CocoSegmentation,
  decodeCocoImage,
  type ExtremePoints,
  type RgbImage,
  readCocoObjects,
} from "@exits/dataset";

/** One object the method works on: where it is, its class, its four clicks, its ground truth if any. */
export interface MethodObject {
  /** The annotation id in the source file. */
  readonly id: number;
  readonly imageId: number;
  readonly categoryId: number;
  /** Top, left, bottom, right in image index space. */
  readonly points: ExtremePoints;
  /** The source annotation's segmentation (evaluation only; never used for training). */
  readonly groundTruth?: CocoSegmentation;
  /** The source annotation as read, so an export keeps its other fields. */
  readonly source: Readonly<Record<string, unknown>>;
}

/** Where extreme points come from (`readCocoObjects`): the file's `extreme_points`, or the ExtremeNet rule on masks. */
export type PointSource = "annotation" | "mask" | "auto";

/**
 * A COCO dataset held as objects with lazily decoded images (a small LRU cache: training draws
 * objects in random order, so every image is decoded about once per epoch at COCO scale and
 * exactly once on small sets that fit the cache).
 */
export class ObjectSet {
  private readonly cache = new Map<number, Promise<RgbImage>>();
  /** Where the extreme points came from, in words (recorded with every evaluation). */
  pointOrigin = "the annotations' extreme_points";

  private constructor(
    readonly annotationsFile: string,
    readonly imageDir: string,
    readonly dataset: CocoDataset,
    readonly objects: readonly MethodObject[],
    readonly images: ReadonlyMap<number, CocoImage>,
    readonly categories: ReadonlyMap<number, CocoCategory>,
    private readonly cacheSize: number,
  ) {}

  /**
   * Reads and checks every annotation (a bad one stops the read with a `CocoInputError` naming the
   * file, the annotation id and the field). Crowd regions are left out: they have no extreme points.
   */
  static async read(
    annotationsFile: string,
    imageDir: string,
    options: {
      points?: PointSource;
      /** Simulated points (source "mask"): snapped onto the object (default) or the raw ExtremeNet midpoint. */
      simulation?: "snapped" | "midpoint";
      cacheSize?: number;
      limit?: number;
    } = {},
  ): Promise<ObjectSet> {
    const { dataset, objects } = await readCocoObjects(annotationsFile, {
      extremePoints: options.points ?? "auto",
      imageDir,
      simulation: { snap: (options.simulation ?? "snapped") === "snapped" },
    });
    const list: MethodObject[] = [];
    for await (const o of objects) {
      const { segmentation, ...rest } = o.annotation;
      list.push({
        id: o.annotation.id,
        imageId: o.image.id,
        categoryId: o.category.id,
        points: o.extremePoints,
        ...(segmentation === undefined ? {} : { groundTruth: segmentation }),
        source: rest,
      });
      if (options.limit !== undefined && list.length >= options.limit) break;
    }
    const set = new ObjectSet(
      annotationsFile,
      imageDir,
      dataset,
      list,
      new Map(dataset.images.map((i) => [i.id, i])),
      new Map(dataset.categories.map((c) => [c.id, c])),
      options.cacheSize ?? 512,
    );
    const simulated = `simulated from the ground-truth masks (ExtremeNet band rule, ${(options.simulation ?? "snapped") === "snapped" ? "snapped onto the object" : "raw midpoint"})`;
    set.pointOrigin =
      options.points === "mask"
        ? simulated
        : options.points === "annotation"
          ? set.pointOrigin
          : `extreme_points where present, else ${simulated}`;
    return set;
  }

  /** The same dataset restricted to some objects (a validation split, a shard). */
  subset(objects: readonly MethodObject[]): ObjectSet {
    const sub = new ObjectSet(
      this.annotationsFile,
      this.imageDir,
      this.dataset,
      objects,
      this.images,
      this.categories,
      this.cacheSize,
    );
    sub.pointOrigin = this.pointOrigin;
    return sub;
  }

  image(imageId: number): CocoImage {
    const image = this.images.get(imageId);
    if (!image) throw new Error(`${this.annotationsFile}: unknown image id ${imageId}`);
    return image;
  }

  /** The decoded image; its size must match the file's `width` / `height`. */
  async pixels(imageId: number): Promise<RgbImage> {
    const hit = this.cache.get(imageId);
    if (hit) {
      this.cache.delete(imageId);
      this.cache.set(imageId, hit);
      return hit;
    }
    // Checked against the file's width/height: a wrong size would shift every crop silently.
    const loading = decodeCocoImage(this.annotationsFile, this.imageDir, this.image(imageId));
    this.cache.set(imageId, loading);
    loading.catch(() => this.cache.delete(imageId));
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return loading;
  }
}
