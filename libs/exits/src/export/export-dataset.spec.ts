// The export writes what method.md §5 says, and paste-back puts masks where the ground truth is:
// a predictor that answers with the ground truth's own crop must give back the ground truth.
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  bboxFromExtremePoints,
  cropMask,
  decodeRle,
  type ObjectCrop,
  type RleMask,
  readCocoAnnotations,
  rleArea,
  rleIou,
  segmentationToRle,
  writeSyntheticDataset,
} from "@exits/dataset";
import { resolveMethodConfig } from "../config/method-config.js";
import { ObjectSet } from "../data/object-set.js";
import type { CropPredictor } from "./crop-mask-predictor.js";
import { exportDataset } from "./export-dataset.js";

describe("exportDataset", () => {
  test("a ground-truth predictor round-trips through crop, paste-back and RLE; fields as method.md §5", async () => {
    const dir = await mkdtemp(join(tmpdir(), "exits-export-"));
    const data = await writeSyntheticDataset({ out: join(dir, "data"), images: 4, seed: 7 });
    const set = await ObjectSet.read(data.annotationsFile, data.imageDir, { points: "annotation" });
    const c = resolveMethodConfig({ crop: { size: 64, patch: 8, maskStride: 1 } });
    const truth = new Map(set.objects.map((o) => [o.id, o]));
    let current: number[] = [];
    const oracle: CropPredictor = {
      batch: 3,
      async predict(crops: readonly ObjectCrop[]) {
        return crops.map((crop, k) => {
          const o = truth.get(current[k]!)!;
          const image = set.image(o.imageId);
          return cropMask(decodeRle(segmentationToRle(o.groundTruth!, image.height, image.width)), crop.map);
        });
      },
    };
    // The oracle needs to know which objects a batch holds: export visits them in order.
    const ids = set.objects.map((o) => o.id);
    let cursor = 0;
    const tracking: CropPredictor = {
      batch: oracle.batch,
      predict(crops) {
        current = ids.slice(cursor, cursor + crops.length);
        cursor += crops.length;
        return oracle.predict(crops);
      },
    };
    const output = join(dir, "pseudo.json");
    const result = await exportDataset(set, tracking, c, { output, manifest: { models: { generator: "oracle" } } });
    assert.equal(result.annotations, set.objects.length);
    const written = [];
    for await (const a of readCocoAnnotations(output)) written.push(a);
    assert.equal(written.length, set.objects.length);
    const ious: number[] = [];
    for (const a of written) {
      const o = truth.get(a.id)!;
      const image = set.image(o.imageId);
      const rle = a.segmentation as RleMask;
      assert.equal(typeof rle.counts, "string", "compressed RLE");
      assert.deepEqual(rle.size, [image.height, image.width]);
      assert.equal(a.area, rleArea(rle), "area is the mask's pixel count");
      assert.deepEqual(a.bbox, bboxFromExtremePoints(o.points), "bbox from the extreme points");
      assert.deepEqual(a.extreme_points, o.points);
      assert.equal(a.iscrowd, 0);
      assert.equal(a.image_id, o.imageId);
      assert.equal(a.category_id, o.categoryId);
      assert.ok(typeof a.score === "number" && a.score > 0.5 && a.score <= 1, `score ${a.score}`);
      ious.push(rleIou(rle, segmentationToRle(o.groundTruth!, image.height, image.width)));
    }
    const mean = ious.reduce((s, v) => s + v, 0) / ious.length;
    assert.ok(mean > 0.9, `mean IoU of pasted ground truth ${mean.toFixed(3)} (resampling at S = 64 loses only edges)`);
    const manifest = JSON.parse(await readFile(result.manifestPath, "utf8"));
    assert.equal(manifest.format, "exits-export");
    assert.deepEqual(manifest.config, c);
    assert.equal(manifest.models.generator, "oracle");
    const header = JSON.parse(await readFile(output, "utf8"));
    assert.deepEqual(header.images, set.dataset.images, "images unchanged");
    assert.deepEqual(header.categories, set.dataset.categories, "categories unchanged");
  });
});
