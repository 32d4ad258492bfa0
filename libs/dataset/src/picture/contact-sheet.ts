import { type Box, boxFromBbox, boxFromExtremePoints, enlargeBox, uniformMargins } from "../crop/box.js";
import { cropImage, cropMask, cropRaster } from "../crop/crop-image.js";
import { extremePointsToCrop } from "../crop/crop-points.js";
import type { RgbImage } from "../image/rgb-image.js";
import type { BinaryMask } from "../mask/mask-types.js";
import { encodeMask, rleToBbox } from "../mask/rle-ops.js";
import type { ExtremePoints } from "../points/extreme-points.js";
import type { Colour } from "../synthetic/textures.js";
import { drawObjects } from "./overlay.js";
import { paletteColour } from "./palette.js";

/** One tile of a contact sheet: an object in its image, with its mask and/or extreme points. */
export interface SheetItem {
  image: RgbImage;
  /** Full-image mask of the object (drawn with fill + contour). */
  mask?: BinaryMask;
  /** Extreme points (drawn as dots); they also define the crop when given. */
  points?: ExtremePoints;
  colour?: Colour;
}

export interface ContactSheetOptions {
  /** Tile side in pixels (default 128). */
  tile?: number;
  /** Tiles per row (default 8). */
  columns?: number;
  /** Crop margin around the object box, as in method.md §2 (default 0.3). */
  margin?: number;
  /** Gap between tiles in pixels (default 2), filled with `background`. */
  gap?: number;
  background?: Colour;
}

/**
 * A grid of object crops (the method's own crop: box from the points, enlarged by the margin,
 * resized to a square), each with its mask and points drawn, for checking labels by eye.
 * Crop areas beyond the image are mirror-filled like the model's input but shown at half
 * brightness so a person does not mistake them for image content.
 */
export function contactSheet(items: readonly SheetItem[], options: ContactSheetOptions = {}): RgbImage {
  const tile = options.tile ?? 128;
  const columns = Math.max(1, Math.min(options.columns ?? 8, items.length || 1));
  const gap = options.gap ?? 2;
  const background = options.background ?? [32, 32, 32];
  const rows = Math.max(1, Math.ceil(items.length / columns));
  const W = columns * tile + (columns + 1) * gap;
  const H = rows * tile + (rows + 1) * gap;
  const sheet = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) sheet.set(background, p * 3);

  items.forEach((item, k) => {
    const box = item.points ? boxFromExtremePoints(item.points) : maskBox(item.mask);
    if (!box) return;
    const { image: crop, map } = cropImage(item.image, enlargeBox(box, uniformMargins(options.margin ?? 0.3)), tile);
    // Which crop pixels come from inside the image: crop a constant-1 raster with zero border.
    const ones = {
      width: item.image.width,
      height: item.image.height,
      channels: 1,
      data: new Uint8Array(item.image.width * item.image.height).fill(1),
    };
    const inImage = cropRaster(ones, map.box, tile, tile, { border: "zero" });
    for (let p = 0; p < tile * tile; p++) {
      if (inImage[p]! < 0.5) for (let c = 0; c < 3; c++) crop.data[p * 3 + c] = crop.data[p * 3 + c]! >> 1;
    }
    let mask: BinaryMask | undefined;
    if (item.mask) {
      const probs = cropMask(item.mask, map);
      const data = new Uint8Array(tile * tile);
      for (let p = 0; p < data.length; p++) data[p] = probs[p]! >= 0.5 ? 1 : 0;
      mask = { width: tile, height: tile, data };
    }
    const points = item.points ? extremePointsToCrop(map, item.points) : undefined;
    const drawn = drawObjects(crop, [{ mask, points, colour: item.colour ?? paletteColour(k) }], {
      pointRadius: Math.max(2, Math.round(tile / 48)),
      contour: tile >= 96 ? 2 : 1,
    });
    const ox = gap + (k % columns) * (tile + gap);
    const oy = gap + Math.floor(k / columns) * (tile + gap);
    for (let y = 0; y < tile; y++) {
      sheet.set(drawn.data.subarray(y * tile * 3, (y + 1) * tile * 3), ((oy + y) * W + ox) * 3);
    }
  });
  return { width: W, height: H, data: sheet };
}

/** The mask's tight box (pycocotools' toBbox), or undefined when it is empty. */
function maskBox(mask: BinaryMask | undefined): Box | undefined {
  if (!mask) return undefined;
  const bbox = rleToBbox(encodeMask(mask));
  return bbox[2] > 0 ? boxFromBbox(bbox) : undefined;
}
