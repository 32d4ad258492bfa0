import type { Bbox, RleMask } from "../mask/mask-types.js";
import type { ExtremePoints } from "../points/extreme-points.js";

/** One image entry of a COCO instance file. Extra fields (coco_url, license, ...) are kept. */
export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  [extra: string]: unknown;
}

/** One category; `id` is what annotations' `category_id` refers to. */
export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [extra: string]: unknown;
}

/**
 * An object's segmentation as COCO stores it: a list of polygons `[x0, y0, x1, y1, ...]` (the
 * object is their union), or an RLE (compressed string or, for crowd regions, plain counts).
 */
export type CocoSegmentation = number[][] | RleMask;

/**
 * One annotation (object instance). `bbox` is `[x, y, w, h]`; `area` in the original COCO files
 * is the polygon area, in this project's exports the mask's pixel count. `extreme_points` is
 * top, left, bottom, right (ExtremeNet's extension); `score` is set on generated masks.
 */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation?: CocoSegmentation;
  area?: number;
  bbox?: Bbox;
  iscrowd?: 0 | 1;
  extreme_points?: ExtremePoints;
  score?: number;
  [extra: string]: unknown;
}

/**
 * Everything of a COCO instance file except its annotations: small enough to hold in memory
 * even for train2017 (118 k images), while annotations are streamed.
 */
export interface CocoDataset {
  info?: unknown;
  licenses?: unknown[];
  images: CocoImage[];
  categories: CocoCategory[];
  /** Other top-level keys (e.g. the old `type: "instances"`), kept for round trips. */
  extra?: Record<string, unknown>;
}
