import { extname } from "node:path";
import { writeFileAtomic } from "@exits/base";
import sharp, { type Sharp } from "sharp";
import type { RgbImage } from "./rgb-image.js";

function toSharp(image: RgbImage): Sharp {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(`RGB data has ${image.data.length} bytes, expected ${image.width * image.height * 3}`);
  }
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Lossless PNG bytes. */
export async function encodePng(image: RgbImage): Promise<Buffer> {
  return toSharp(image).png({ compressionLevel: 6 }).toBuffer();
}

/** JPEG bytes; quality 1–100 (default 92), 4:4:4 chroma so thin structures keep their colour. */
export async function encodeJpeg(image: RgbImage, quality = 92): Promise<Buffer> {
  return toSharp(image).jpeg({ quality, chromaSubsampling: "4:4:4" }).toBuffer();
}

/** Writes PNG or JPEG by the file extension, atomically (temporary file + rename). */
export async function writeImage(path: string, image: RgbImage, options: { quality?: number } = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  let bytes: Buffer;
  if (ext === ".png") bytes = await encodePng(image);
  else if (ext === ".jpg" || ext === ".jpeg") bytes = await encodeJpeg(image, options.quality);
  else throw new Error(`cannot write ${path}: unknown image extension "${ext}" (use .png, .jpg or .jpeg)`);
  await writeFileAtomic(path, bytes);
}
