import assert from "node:assert/strict";
import { test } from "node:test";
import { MaskInputError } from "../mask/mask-input-error.js";
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
    /segmentation\[1\]: is a polygon in a list of boxes/,
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

test("malformed segmentations throw MaskInputError naming the field", () => {
  const cases: [unknown, string, RegExp][] = [
    [[], "segmentation", /empty list/],
    [[[1, 2, 3]], "segmentation[0]", /not an even-length/],
    [
      [
        [1, 2, 3, 4, 5, 6],
        [1, 2, 3, "x", 5, 6],
      ],
      "segmentation[1][3]",
      /"x" is not a finite number/,
    ],
    [[[1, 2, 3, 4, 5, null]], "segmentation[0][5]", /null is not a finite number/],
    [[[1, 2, 3, 4, 5, -1e6]], "segmentation[0][5]", /-1000000 is beyond ±100000 for a 2x2 image/],
    [{ foo: 1 }, "segmentation", /neither a list of polygons nor an RLE/],
    [{ size: [2, 2], counts: 7 }, "segmentation.counts", /neither a compressed string nor a list/],
    [{ size: [2, "2"], counts: [4] }, "segmentation.size", /not two non-negative integers/],
    [{ size: [2, 2], counts: [1, 2.5, 0.5] }, "segmentation.counts[1]", /2\.5 is not a non-negative integer/],
    [{ size: [2, 2], counts: [1, 2] }, "segmentation.counts", /cover 3 pixels, expected 2x2 = 4/],
    [{ size: [2, 2], counts: [1, 2, 9] }, "segmentation.counts", /cover more than 2x2/],
    [{ size: [2, 2], counts: "1" }, "segmentation.counts", /cover 1 pixels/],
    [{ size: [2, 2], counts: "1a" }, "segmentation.counts", /ends inside a value/],
  ];
  for (const [segmentation, field, problem] of cases) {
    assert.throws(
      () => segmentationToRle(segmentation as never, 2, 2),
      (e: unknown) => {
        assert.ok(e instanceof MaskInputError, String(e));
        assert.equal(e.field, field, JSON.stringify(segmentation));
        assert.match(e.problem, problem);
        assert.equal(e.message, `${field}: ${e.problem}`);
        return true;
      },
    );
  }
});

test("coordinates are bounded relative to the image: 100 sides, at least 1e5", () => {
  const far = (v: number) => [[1, 1, v, 1, 1, 5]];
  assert.doesNotThrow(() => segmentationToRle(far(1e5), 10, 10));
  assert.throws(() => segmentationToRle(far(1e5 + 1), 10, 10), /beyond ±100000/);
  assert.doesNotThrow(() => segmentationToRle(far(2e5), 10, 2000));
  assert.throws(() => segmentationToRle(far(2e5 + 1), 10, 2000), /beyond ±200000/);
  assert.throws(
    () => segmentationToRle([[9e4, 0, 9e4, 5]], 10, 10),
    (e: unknown) => e instanceof MaskInputError && e.field === "segmentation[0][2]" && /far side/.test(e.problem),
  );
});
