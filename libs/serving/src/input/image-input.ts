import { realpathSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Image as WireImage } from "@exits/contracts";
import { decodeImage, type RgbImage } from "@exits/dataset";
import type { ObjectSet } from "@exits/exits";
import type { DataPaths } from "../paths/data-paths.js";
import { ObjectInputError } from "./object-issue.js";

/** Magic bytes of the two formats image.proto accepts. */
function formatOf(bytes: Uint8Array): "png" | "jpeg" | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return undefined;
}

/**
 * Decodes an `Image` of a request (`field` is its path, e.g. "images[3].image"): inline PNG or
 * JPEG bytes, or a path inside the data directory. Empty, corrupt or unsupported bytes and a
 * size other than the declared `width` / `height` are INVALID_ARGUMENT naming the field; a
 * missing file is NOT_FOUND; a path leaving the data directory is INVALID_ARGUMENT.
 */
export async function decodeWireImage(wire: WireImage | undefined, field: string, paths: DataPaths): Promise<RgbImage> {
  let image: RgbImage;
  if (wire?.encoded !== undefined) {
    const bytes = wire.encoded;
    if (bytes.length === 0) throw new ObjectInputError("image_decode_failed", `${field}.encoded`, "is empty");
    if (!formatOf(bytes))
      throw new ObjectInputError(
        "image_decode_failed",
        `${field}.encoded`,
        "is neither PNG nor JPEG (unrecognised magic bytes); send a PNG or JPEG file",
      );
    try {
      image = await decodeImage(bytes, `${field}.encoded`);
    } catch (error) {
      throw new ObjectInputError("image_decode_failed", `${field}.encoded`, (error as Error).message);
    }
  } else if (wire?.path !== undefined) {
    const file = paths.resolve(`${field}.path`, wire.path);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile())
      throw new ObjectInputError(
        "image_not_found",
        `${field}.path`,
        `"${wire.path}" is not a file in the data directory`,
        true,
      );
    try {
      image = await decodeImage(file, wire.path);
    } catch (error) {
      throw new ObjectInputError("image_decode_failed", `${field}.path`, (error as Error).message);
    }
  } else {
    throw new ObjectInputError("image_missing", field, "has no source; set `encoded` or `path`");
  }
  for (const side of ["width", "height"] as const) {
    const declared = wire[side];
    if (declared !== undefined && declared !== image[side])
      throw new ObjectInputError(
        "image_size_mismatch",
        `${field}.${side}`,
        `is ${declared} but the image decodes to ${image.width}x${image.height}`,
      );
  }
  return image;
}

/**
 * An image of a set as a request should carry it to a service sharing the data directory: by its
 * data-directory path when its real path lies inside (`paths` given), else as its encoded bytes
 * (an image reached through a symlink that leads out is sent as bytes). The declared size guards
 * against a wrong file on the other side.
 */
export async function setImageToWire(
  set: ObjectSet,
  imageId: number,
  paths: DataPaths | undefined,
): Promise<WireImage> {
  const info = set.image(imageId);
  const file = join(set.imageDir, info.file_name);
  if (paths) {
    try {
      return { path: paths.toClient(realpathSync(file)), width: info.width, height: info.height };
    } catch {
      // outside the data directory
    }
  }
  return { encoded: await readFile(file), width: info.width, height: info.height };
}
