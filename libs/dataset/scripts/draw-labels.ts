// Draws a COCO file's masks and extreme points over its images, plus a contact sheet of objects,
// for reports and for checking labels by eye.
// Usage (from the repo root):
//   node --conditions=source --import ./tools/register.mjs libs/dataset/scripts/draw-labels.ts \
//     --coco FILE.json --images DIR --out DIR [--limit 20] [--sheet-objects 64] [--tile 128]
import { join, parse } from "node:path";
import { parseArgs } from "node:util";
import { readCocoObjects } from "../src/coco/coco-objects.js";
import type { CocoImage } from "../src/coco/coco-types.js";
import { segmentationToMask } from "../src/coco/segmentation.js";
import { decodeImage } from "../src/image/decode-image.js";
import { writeImage } from "../src/image/encode-image.js";
import type { RgbImage } from "../src/image/rgb-image.js";
import { contactSheet, type SheetItem } from "../src/picture/contact-sheet.js";
import { type AnnotatedObject, drawObjects } from "../src/picture/overlay.js";

const { values } = parseArgs({
  options: {
    coco: { type: "string" },
    images: { type: "string" },
    out: { type: "string" },
    limit: { type: "string", default: "20" },
    "sheet-objects": { type: "string", default: "64" },
    tile: { type: "string", default: "128" },
  },
});
if (!values.coco || !values.images || !values.out) {
  console.error("usage: draw-labels.ts --coco FILE.json --images DIR --out DIR [--limit N] [--sheet-objects N]");
  process.exit(2);
}
const limit = Number(values.limit);
const sheetObjects = Number(values["sheet-objects"]);

const { objects } = await readCocoObjects(values.coco, { extremePoints: "auto", onInvalid: "skip" });
const perImage = new Map<number, { image: CocoImage; objects: AnnotatedObject[] }>();
const sheet: SheetItem[] = [];
const pixels = new Map<number, RgbImage>();
for await (const o of objects) {
  let entry = perImage.get(o.image.id);
  if (!entry && perImage.size < limit) {
    entry = { image: o.image, objects: [] };
    perImage.set(o.image.id, entry);
  }
  if (!entry && sheet.length >= sheetObjects) continue;
  const mask = o.annotation.segmentation
    ? segmentationToMask(o.annotation.segmentation, o.image.height, o.image.width)
    : undefined;
  entry?.objects.push({ mask, points: o.extremePoints });
  if (sheet.length < sheetObjects) {
    let image = pixels.get(o.image.id);
    if (!image) {
      image = await decodeImage(join(values.images, o.image.file_name));
      pixels.set(o.image.id, image);
    }
    sheet.push({ image, mask, points: o.extremePoints });
  }
}
for (const { image, objects: objs } of perImage.values()) {
  const pixelsOf = pixels.get(image.id) ?? (await decodeImage(join(values.images, image.file_name)));
  await writeImage(join(values.out, `${parse(image.file_name).name}.overlay.png`), drawObjects(pixelsOf, objs));
}
await writeImage(join(values.out, "contact-sheet.png"), contactSheet(sheet, { tile: Number(values.tile) }));
console.log(`wrote ${perImage.size} overlays and a contact sheet of ${sheet.length} objects to ${values.out}`);
