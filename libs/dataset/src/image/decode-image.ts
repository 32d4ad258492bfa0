import { readFile } from "node:fs/promises";
import sharp from "sharp";
import type { RgbImage } from "./rgb-image.js";

/** A file that could not be read or decoded as an image; `file` names it. */
export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`cannot decode image ${file}: ${reason}`);
    this.name = "ImageDecodeError";
  }
}

/**
 * Decodes any format sharp reads (JPEG, PNG, WebP, TIFF, ...) to 8-bit sRGB, 3 channels.
 *
 * - Grayscale is replicated to R = G = B.
 * - Alpha is DROPPED (the stored colour is kept, not composited over a background), like PIL's
 *   `convert("RGB")` that MAL and most PyTorch pipelines use.
 * - 16-bit images are scaled to 8 bits; CMYK (and any embedded ICC profile) is converted to sRGB.
 * - EXIF orientation is NOT applied: COCO annotations are in the stored pixel grid.
 * - A corrupt or truncated file is an error, never a partial image. `failOn` is sharp's level:
 *   "error" (default) rejects truncated and corrupt data but accepts files with benign decoder
 *   warnings (a few real COCO JPEGs carry extraneous bytes that PIL also accepts); "warning" is
 *   stricter, "truncated" more lenient.
 *
 * `name` labels errors when decoding a buffer (defaults to "<buffer>").
 */
export async function decodeImage(
  input: string | Uint8Array,
  name?: string,
  options: { failOn?: "warning" | "error" | "truncated" } = {},
): Promise<RgbImage> {
  const file = name ?? (typeof input === "string" ? input : "<buffer>");
  let bytes: Uint8Array;
  try {
    bytes = typeof input === "string" ? await readFile(input) : input;
  } catch (error) {
    throw new ImageDecodeError(file, (error as Error).message);
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: options.failOn ?? "error" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new ImageDecodeError(file, (error as Error).message.split("\n")[0] ?? "unknown error");
  }
}

/** Width and height from the header only (no pixel decode). */
export async function readImageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error("no size in header");
    return { width: meta.width, height: meta.height };
  } catch (error) {
    throw new ImageDecodeError(path, (error as Error).message.split("\n")[0] ?? "unknown error");
  }
}
