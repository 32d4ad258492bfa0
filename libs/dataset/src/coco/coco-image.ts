import { access } from "node:fs/promises";
import { join } from "node:path";
import { decodeImage, readImageSize } from "../image/decode-image.js";
import type { RgbImage } from "../image/rgb-image.js";
import { MAX_MASK_PIXELS } from "../mask/rle-check.js";
import { CocoInputError } from "./coco-input-error.js";
import type { CocoImage } from "./coco-types.js";

/**
 * The first problem of an `images` entry as `[field, problem]`, or undefined when it is an
 * object with a numeric `id`, a non-empty string `file_name` and positive integer `width` and
 * `height` whose product is at most `MAX_MASK_PIXELS` (its masks must be allocatable).
 */
export function cocoImageProblem(entry: unknown): [field: string, problem: string] | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return ["", "is not an object"];
  const e = entry as Record<string, unknown>;
  if (typeof e.id !== "number" || !Number.isFinite(e.id)) return ["id", `${JSON.stringify(e.id)} is not a number`];
  if (typeof e.file_name !== "string" || e.file_name === "")
    return ["file_name", `${JSON.stringify(e.file_name)} is not a file name`];
  for (const side of ["width", "height"] as const) {
    const v = e[side];
    if (!Number.isSafeInteger(v) || (v as number) <= 0) return [side, `${JSON.stringify(v)} is not a positive integer`];
  }
  if ((e.width as number) * (e.height as number) > MAX_MASK_PIXELS)
    return ["width, height", `${e.width}x${e.height} exceeds the ${MAX_MASK_PIXELS}-pixel limit`];
  return undefined;
}

/** `[field, problem]` when an image's real size is not the one its entry declares. */
export function imageSizeProblem(
  image: CocoImage,
  actual: { width: number; height: number },
): [field: string, problem: string] | undefined {
  const w = actual.width !== image.width;
  const h = actual.height !== image.height;
  if (!w && !h) return undefined;
  return [
    w && h ? "width, height" : w ? "width" : "height",
    `${image.file_name} is ${actual.width}x${actual.height} pixels, the JSON says ${image.width}x${image.height}`,
  ];
}

/**
 * Reads only the header of an entry's image file: undefined when it exists and has the declared
 * size, else `[field, problem]` (a missing or unreadable file is a `file_name` problem).
 */
export async function imageFileProblem(
  imageDir: string,
  image: CocoImage,
): Promise<[field: string, problem: string] | undefined> {
  const path = join(imageDir, image.file_name);
  let size: { width: number; height: number };
  try {
    size = await readImageSize(path);
  } catch (error) {
    const missing = await access(path).then(
      () => false,
      () => true,
    );
    return ["file_name", missing ? `image file ${path} is missing` : (error as Error).message];
  }
  return imageSizeProblem(image, size);
}

/**
 * Decodes an entry's image and checks it against the entry: a file that cannot be decoded or
 * whose size differs from `width` / `height` throws `CocoInputError` naming `annotationsFile`,
 * the image id and the field. Use this, not `decodeImage`, wherever COCO coordinates will be
 * applied to the pixels: a wrong-sized image would be cropped silently.
 */
export async function decodeCocoImage(annotationsFile: string, imageDir: string, image: CocoImage): Promise<RgbImage> {
  let rgb: RgbImage;
  try {
    rgb = await decodeImage(join(imageDir, image.file_name));
  } catch (error) {
    throw new CocoInputError(
      annotationsFile,
      undefined,
      (error as Error).message,
      {
        imageId: image.id,
        field: "file_name",
      },
      { cause: error },
    );
  }
  const problem = imageSizeProblem(image, rgb);
  if (problem)
    throw new CocoInputError(annotationsFile, undefined, problem[1], { imageId: image.id, field: problem[0] });
  return rgb;
}
