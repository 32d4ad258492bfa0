import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { encodeJpeg } from "../image/encode-image.js";
import { createRgbImage } from "../image/rgb-image.js";
import { decodeRle, rleArea, rleToBbox } from "../mask/rle-ops.js";
import { sharedDataPath } from "../shared-data.testing.js";
import { decodeCocoImage } from "./coco-image.js";
import { CocoInputError } from "./coco-input-error.js";
import { type CocoObject, readCocoObjects } from "./coco-objects.js";
import type { CocoAnnotation } from "./coco-types.js";
import { convertCoco } from "./convert-coco.js";
import { exportAnnotation } from "./export-annotation.js";
import { segmentationToMask, segmentationToRle } from "./segmentation.js";

const dir = mkdtempSync(join(tmpdir(), "coco-objects-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// Image 1 is really 20x10, as its entry says; image 3's entry says 20x10 but the file is 1x1.
writeFileSync(join(dir, "a.jpg"), await encodeJpeg(createRgbImage(20, 10)));
writeFileSync(join(dir, "tiny.jpg"), await encodeJpeg(createRgbImage(1, 1)));

const square = [[2, 2, 8, 2, 8, 7, 2, 7]];
const good: CocoAnnotation = {
  id: 1,
  image_id: 1,
  category_id: 3,
  segmentation: square,
  bbox: [2, 2, 6, 5],
  iscrowd: 0,
  extreme_points: [
    [5, 2],
    [2, 4],
    [5, 7],
    [8, 4],
  ],
};
// Each malformed annotation, the field its error must name and the words it must contain.
const bad: [CocoAnnotation, string, RegExp][] = [
  [
    {
      ...good,
      id: 2,
      extreme_points: [
        [5, 2],
        [2, 4],
        [5, 7],
      ] as never,
    },
    "extreme_points",
    /expected 4 extreme points.*got 3/,
  ],
  [
    {
      ...good,
      id: 3,
      extreme_points: [
        [5, 2],
        [2, 4],
        [5, 7],
        [30, 4],
      ],
    },
    "extreme_points",
    /right \(30, 4\) lies outside the 20x10 image/,
  ],
  [
    {
      ...good,
      id: 4,
      extreme_points: [
        [5, 6],
        [2, 4],
        [5, 7],
        [8, 4],
      ],
    },
    "extreme_points",
    /order contradicts the box: top \(5, 6\) does not have the smallest y/,
  ],
  [{ ...good, id: 5, category_id: 99 }, "category_id", /99 is not the id of any category/],
  [{ ...good, id: 6, image_id: 2 }, "file_name", /image file .*missing\.jpg is missing/],
  [{ ...good, id: 7, image_id: 42 }, "image_id", /42 is not the id of any image/],
  [
    {
      ...good,
      id: 8,
      extreme_points: [
        [5, 0],
        [2, 4],
        [5, 7],
        [8, 4],
      ],
    },
    "extreme_points",
    /top \(5, 0\) is 2\.00 px from its side of bbox/,
  ],
  [{ ...good, id: 10, bbox: [1, 2] as never }, "bbox", /is not \[x, y, w, h\] with finite numbers: \[1,2\]/],
  [{ ...good, id: 11, extreme_points: null as never }, "extreme_points", /extreme_points is not an array/],
  [{ ...good, id: 12, bbox: [2, 2, -6, 5] }, "bbox", /width -6 and height 5 must not be negative/],
  [{ ...good, id: 13, bbox: [2, 2, 6, -0.5] }, "bbox", /must not be negative/],
  [{ ...good, id: 14, image_id: 3 }, "width, height", /tiny\.jpg is 1x1 pixels, the JSON says 20x10/],
  [
    { ...good, id: 15, segmentation: [[2, 2, 2e7, 2, 8, 7]] },
    "segmentation[0][2]",
    /20000000 is beyond ±100000 for a 10x20 image/,
  ],
  [
    { ...good, id: 16, segmentation: [[2, 2, "8", 2, 8, 7]] as never },
    "segmentation[0][2]",
    /"8" is not a finite number/,
  ],
  // The run walk of IoU / merge never ended on runs that stop short of h·w.
  [
    { ...good, id: 17, segmentation: { size: [10, 20], counts: [1, 2] } },
    "segmentation.counts",
    /cover 3 pixels, expected 10x20/,
  ],
  [
    { ...good, id: 18, segmentation: { size: [10, 20], counts: [1, -2, 201] } },
    "segmentation.counts[1]",
    /-2 is not a non-negative/,
  ],
  [{ ...good, id: 19, segmentation: { size: [10, 20], counts: "0" } }, "segmentation.counts", /cover 0 pixels/],
];
const file = join(dir, "input.json");
writeFileSync(
  file,
  JSON.stringify({
    images: [
      { id: 1, file_name: "a.jpg", width: 20, height: 10 },
      { id: 2, file_name: "missing.jpg", width: 20, height: 10 },
      { id: 3, file_name: "tiny.jpg", width: 20, height: 10 },
    ],
    annotations: [good, ...bad.map(([a]) => a), { ...good, id: 9, iscrowd: 1 }],
    categories: [{ id: 3, name: "thing" }],
  }),
);

async function collect(objects: AsyncGenerator<CocoObject>): Promise<CocoObject[]> {
  const out: CocoObject[] = [];
  for await (const o of objects) out.push(o);
  return out;
}

describe("reading objects with checks", () => {
  test("each malformed annotation throws an error naming the file, the id, the field and the problem", async () => {
    for (const [annotation, field, problem] of bad) {
      const single = join(dir, `single-${annotation.id}.json`);
      const doc = JSON.parse(readFileSync(file, "utf8"));
      doc.annotations = [annotation];
      writeFileSync(single, JSON.stringify(doc));
      const { objects } = await readCocoObjects(single, { imageDir: dir });
      await assert.rejects(collect(objects), (e: unknown) => {
        assert.ok(e instanceof CocoInputError);
        assert.equal(e.file, single);
        assert.equal(e.annotationId, annotation.id);
        assert.equal(e.field, field, `annotation ${annotation.id}`);
        const name = field.replace(/[[\]]/g, "\\$&");
        assert.match(e.message, new RegExp(`single-${annotation.id}\\.json: annotation ${annotation.id}: .*${name}: `));
        assert.match(e.problem, problem);
        return true;
      });
    }
  });

  test("skip mode goes on and reports every malformed annotation", async () => {
    const { objects, report } = await readCocoObjects(file, { imageDir: dir, onInvalid: "skip" });
    const ok = await collect(objects);
    assert.deepEqual(
      ok.map((o) => o.annotation.id),
      [1],
    );
    assert.deepEqual(ok[0]!.extremePoints, good.extreme_points);
    assert.equal(ok[0]!.category.name, "thing");
    assert.deepEqual(
      report.skipped.map((e) => e.annotationId),
      bad.map(([a]) => a.id),
    );
    assert.equal(report.crowd, 1);
    assert.equal(report.read, bad.length + 2);
  });

  test("simulated extreme points come from the ground-truth mask", async () => {
    const { objects } = await readCocoObjects(file, { extremePoints: "mask", onInvalid: "skip" });
    const first = (await collect(objects))[0]!;
    // The polygon [2, 8] × [2, 7] fills pixel columns 2..7 and rows 2..6.
    assert.deepEqual(first.extremePoints, [
      [4, 2],
      [2, 4],
      [4, 6],
      [7, 4],
    ]);
  });

  test("batch conversion writes the export format and reports skipped annotations", async () => {
    const output = join(dir, "out.json");
    const report = await convertCoco(
      file,
      output,
      (o) =>
        exportAnnotation(
          { ...o.annotation, extreme_points: o.extremePoints },
          segmentationToMask(o.annotation.segmentation!, 10, 20),
          0.9,
        ),
      { imageDir: dir, onInvalid: "skip" },
    );
    assert.equal(report.written, 1);
    assert.equal(report.skipped.length, bad.length);
    const written = JSON.parse(readFileSync(output, "utf8"));
    assert.equal(written.images.length, 3);
    const [a] = written.annotations;
    assert.deepEqual(Object.keys(a).sort(), [
      "area",
      "bbox",
      "category_id",
      "extreme_points",
      "id",
      "image_id",
      "iscrowd",
      "score",
      "segmentation",
    ]);
    assert.equal(typeof a.segmentation.counts, "string");
    assert.equal(a.area, 30, "area is the mask's pixel count");
    assert.deepEqual(a.bbox, [2, 2, 7, 6], "bbox covering the extreme pixels");
    assert.equal(a.iscrowd, 0);
  });
});

describe("checked images", () => {
  test("malformed image and category entries are named by id (or index) and field", async () => {
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.images.push(
      { id: 4, file_name: "a.jpg", width: -20, height: 10 },
      { id: "5", file_name: "a.jpg", width: 20, height: 10 },
      { id: 1, file_name: "a.jpg", width: 20, height: 10 },
      7,
    );
    doc.categories.push(null);
    const path = join(dir, "bad-entries.json");
    writeFileSync(path, JSON.stringify(doc));
    await assert.rejects(readCocoObjects(path), /bad-entries\.json: image 4: width: -20 is not a positive integer/);
    const { report } = await readCocoObjects(path, { onInvalid: "skip" });
    assert.deepEqual(
      report.skipped.map((e) => e.message.replace(`${path}: `, "")),
      [
        "image 4: width: -20 is not a positive integer",
        'images[4]: id: "5" is not a number',
        "image 1: id: appears twice in images",
        "images[6]: is not an object",
        "categories[1]: is not an object with a numeric id",
      ],
    );
  });

  test("decodeCocoImage rejects a file whose size is not the entry's, naming file, image id and field", async () => {
    const entry = { id: 3, file_name: "tiny.jpg", width: 20, height: 10 };
    await assert.rejects(decodeCocoImage(file, dir, entry), (e: unknown) => {
      assert.ok(e instanceof CocoInputError);
      assert.equal(e.imageId, 3);
      assert.equal(e.field, "width, height");
      assert.equal(e.message, `${file}: image 3: width, height: tiny.jpg is 1x1 pixels, the JSON says 20x10`);
      return true;
    });
    await assert.rejects(decodeCocoImage(file, dir, { ...entry, width: 1 }), /image 3: height: /);
    await assert.rejects(
      decodeCocoImage(file, dir, { ...entry, file_name: "nope.jpg" }),
      /image 3: file_name: cannot decode/,
    );
    const ok = await decodeCocoImage(file, dir, { id: 1, file_name: "a.jpg", width: 20, height: 10 });
    assert.deepEqual([ok.width, ok.height], [20, 10]);
  });
});

describe("coco-tiny", () => {
  const annotations = sharedDataPath("coco-tiny/annotations");
  test("all 852 instances rasterise; simulated extreme points lie on the mask and span its box", {
    skip: annotations.skip,
  }, async () => {
    let total = 0;
    for (const split of ["train2017", "val2017"]) {
      const { dataset, objects, report } = await readCocoObjects(join(annotations.path!, `instances_${split}.json`), {
        extremePoints: "mask",
        imageDir: sharedDataPath(`coco-tiny/${split}`).path,
        includeCrowd: true,
      });
      const imageById = new Map(dataset.images.map((i) => [i.id, i]));
      let polygons = 0;
      for await (const o of objects) {
        const { height, width } = imageById.get(o.annotation.image_id)!;
        const rle = segmentationToRle(o.annotation.segmentation!, height, width);
        const mask = decodeRle(rle);
        const [bx, by, bw, bh] = rleToBbox(rle);
        const [top, left, bottom, right] = o.extremePoints;
        const id = `annotation ${o.annotation.id}`;
        for (const [x, y] of o.extremePoints) assert.equal(mask.data[y * width + x], 1, `${id}: point on the mask`);
        // pycocotools' box widens to full height for runs that cross columns; x is always exact.
        assert.deepEqual([left[0], right[0] - left[0] + 1], [bx, bw], id);
        if (bh !== height) assert.deepEqual([top[1], bottom[1] - top[1] + 1], [by, bh], id);
        if (Array.isArray(o.annotation.segmentation)) {
          // COCO's `area` is the polygon's area; the pixel count differs by at most a boundary band.
          polygons++;
          const area = rleArea(rle);
          const [, , w, h] = o.annotation.bbox!;
          assert.ok(Math.abs(area - o.annotation.area!) <= 2 * (w + h) + 4, `${id}: ${area} vs ${o.annotation.area}`);
        }
      }
      assert.equal(report.skipped.length, 0);
      assert.equal(report.yielded, report.read);
      assert.ok(polygons > 300, `${split}: ${polygons} polygon instances`);
      total += report.yielded;
    }
    assert.equal(total, 852);
  });
});
