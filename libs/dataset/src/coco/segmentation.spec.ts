import assert from "node:assert/strict";
import { test } from "node:test";
import { rleFromBbox, rleFromPolygon } from "../mask/polygon.js";
import { rleMerge } from "../mask/rle-ops.js";
import { segmentationToMask, segmentationToRle } from "./segmentation.js";

test("polygon lists are rasterised and unioned, as annToRLE", () => {
  const a = [1, 1, 6, 1, 6, 5, 1, 5];
  const b = [4, 3, 9, 3, 9, 8];
  assert.deepEqual(segmentationToRle([a, b], 10, 12), rleMerge([rleFromPolygon(a, 10, 12), rleFromPolygon(b, 10, 12)]));
});

test("a list whose first entry has 4 numbers is boxes, as pycocotools' frPyObjects", () => {
  assert.deepEqual(segmentationToRle([[1, 2, 3, 4]], 10, 12), rleMerge([rleFromBbox([1, 2, 3, 4], 10, 12)]));
  assert.throws(
    () =>
      segmentationToRle(
        [
          [1, 2, 3, 4],
          [1, 1, 5, 1, 5, 5],
        ],
        10,
        12,
      ),
    /mixes boxes and polygons/,
  );
});

test("uncompressed RLE is compressed; sizes must match the image", () => {
  const rle = segmentationToRle({ size: [2, 3], counts: [1, 2, 1, 2] }, 2, 3);
  assert.equal(typeof rle.counts, "string");
  assert.deepEqual(
    Array.from(segmentationToMask({ size: [2, 3], counts: [1, 2, 1, 2] }, 2, 3).data),
    [0, 1, 1, 1, 0, 1],
  );
  assert.throws(() => segmentationToRle({ size: [3, 3], counts: [9] }, 2, 3), /differs from the image/);
});

test("malformed segmentations are rejected with a reason", () => {
  assert.throws(() => segmentationToRle([], 2, 2), /empty list/);
  assert.throws(() => segmentationToRle([[1, 2, 3]], 2, 2), /polygon 0 is not an even-length/);
  assert.throws(() => segmentationToRle([[1, 2, 3, "x", 5, 6] as never], 2, 2), /polygon 0/);
  assert.throws(() => segmentationToRle({ foo: 1 } as never, 2, 2), /neither a list of polygons nor an RLE/);
});
