import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MaskInputError } from "./mask-input-error.js";
import { polygonCoordinateLimit, polygonRunLengths, rleFromPolygon } from "./polygon.js";
import { FAR_POLYGON_VECTORS } from "./polygon-far-vectors.testing.js";
import { walkedPolygonRunLengths } from "./polygon-walk.testing.js";

// A coordinate on the 0.1 grid hits the C code's rounding ties (5x + 0.5 lands on integers);
// the spread reaches a few image sizes past every border so that clipping is exercised.
const polygonCase = fc
  .record({ h: fc.integer({ min: 1, max: 30 }), w: fc.integer({ min: 1, max: 30 }), k: fc.integer({ min: 0, max: 9 }) })
  .chain(({ h, w, k }) => {
    const coord = (side: number) =>
      fc.oneof(
        fc.double({ min: -3 * side, max: 4 * side, noNaN: true }),
        fc.integer({ min: -30 * side, max: 40 * side }).map((v) => v / 10),
        fc.integer({ min: -200, max: 200 }),
      );
    return fc.record({
      h: fc.constant(h),
      w: fc.constant(w),
      xy: fc.array(fc.tuple(coord(w), coord(h)), { minLength: k, maxLength: k }).chain((points) =>
        // Repeated vertices give zero-length edges, whose C walk point has v = (int)NaN.
        fc
          .boolean()
          .map((repeat) => (repeat && points.length ? [...points, points[points.length - 1]!] : points).flat()),
      ),
    });
  });

describe("clipped polygon rasterisation", () => {
  test("equals the full fine walk of rleFrPoly, polygons partly or wholly outside included", () => {
    fc.assert(
      fc.property(polygonCase, ({ h, w, xy }) => {
        assert.deepEqual(polygonRunLengths(xy, h, w), walkedPolygonRunLengths(xy, h, w));
      }),
      { numRuns: 2000 },
    );
  });

  test("equals pycocotools on polygons reaching up to 1e5 outside the image", () => {
    for (const v of FAR_POLYGON_VECTORS) assert.equal(rleFromPolygon(v.xy, v.h, v.w).counts, v.counts, v.name);
  });

  test("cost is bounded by the image, not by the edges' length", { timeout: 10_000 }, () => {
    // 400 edges each 2e5 long: the fine walk would store 4e8 points (≈ 3 GB); clipped, a few ms.
    const xy: number[] = [];
    for (let j = 0; j < 200; j++) xy.push(-1e5, j * 2.4, 1e5, j * 2.4 + 1.2);
    const runs = polygonRunLengths(xy, 480, 640);
    assert.equal(
      runs.reduce((s, n) => s + n, 0),
      480 * 640,
    );
  });

  test("non-finite and absurd coordinates are rejected with the coordinate's index", () => {
    const cases: [number[], string, RegExp][] = [
      [[1, 1, Number.NaN, 1, 1, 5], "polygon[2]", /NaN is not a finite number/],
      [[1, 1, 5, Number.POSITIVE_INFINITY, 1, 5], "polygon[3]", /Infinity is not a finite number/],
      [[1, 1, 2e7, 1, 1, 5], "polygon[2]", /20000000 is beyond ±100000 for a 480x640 image/],
      [[1, 1, 5, 1, -1e6, 5], "polygon[4]", /-1000000 is beyond ±100000/],
    ];
    for (const [xy, field, problem] of cases)
      assert.throws(
        () => polygonRunLengths(xy, 480, 640),
        (e: unknown) => e instanceof MaskInputError && e.field === field && problem.test(e.problem),
      );
    assert.throws(() => polygonRunLengths([1, 1, 5, 1, 1, 5], -1, 5), MaskInputError);
  });

  test("the coordinate limit is 100 image sides, at least 1e5, at most 2e8 (C int range on the 5x grid)", () => {
    assert.equal(polygonCoordinateLimit(480, 640), 1e5);
    assert.equal(polygonCoordinateLimit(10, 3000), 3e5);
    assert.equal(polygonCoordinateLimit(1, 2 ** 30), 2e8);
    assert.ok(5 * polygonCoordinateLimit(1, 2 ** 30) * 2 < 2 ** 31);
  });
});
