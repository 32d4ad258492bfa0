import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import fc from "fast-check";
import { fuzzRuns, startWatchdog } from "../fuzz-runs.testing.js";
import { MaskInputError } from "../mask/mask-input-error.js";
import { polygonCoordinateLimit } from "../mask/polygon.js";
import { decodeRle, rleArea } from "../mask/rle-ops.js";
import { countsToString } from "../mask/rle-string.js";
import { segmentationToMask, segmentationToRle } from "./segmentation.js";

// A segmentation from an outside file (polygons, plain-counts RLE, compressed RLE, or garbage)
// must rasterise or fail with a MaskInputError: never a crash, a hang, an out-of-memory from a
// far coordinate (2e7 once killed Node), or another error type.
// More cases: EXITS_FUZZ_RUNS=20000 node tools/run-tests.mjs libs/dataset/src/coco/segmentation.fuzz

const slowestAllowedMs = 2000;

function rasterOrRefusal(segmentation: unknown, h: number, w: number): boolean {
  const started = performance.now();
  try {
    const rle = segmentationToRle(segmentation as never, h, w);
    assert.deepEqual(rle.size, [h, w]);
    assert.equal(typeof rle.counts, "string");
    const mask = segmentationToMask(segmentation as never, h, w);
    assert.equal(mask.data.length, h * w);
    assert.deepEqual(decodeRle(rle).data, mask.data);
    assert.ok(rleArea(rle) <= h * w);
    return true;
  } catch (e) {
    if (!(e instanceof MaskInputError)) throw e;
    return false;
  } finally {
    assert.ok(performance.now() - started < slowestAllowedMs, "one segmentation took over 2 s");
  }
}

const image = fc.record({ h: fc.integer({ min: 1, max: 40 }), w: fc.integer({ min: 1, max: 40 }) });
/** Coordinates in and around the image, up to and past the coordinate limit, and non-numbers. */
const coordinate = fc.oneof(
  { arbitrary: fc.double({ min: -20, max: 60, noNaN: true }), weight: 6 },
  { arbitrary: fc.integer({ min: -1e5, max: 1e5 }), weight: 2 },
  fc.double(),
  fc.constantFrom(1e5 + 1, -2e7, 2e7, 1e308, Number.NaN, Number.POSITIVE_INFINITY),
  fc.jsonValue(),
);
const evenLength = <T>(a: fc.Arbitrary<T[]>) => a.map((xs) => (xs.length % 2 ? xs.slice(1) : xs));
const polygons = fc.array(
  fc.oneof(
    { arbitrary: evenLength(fc.array(fc.double({ min: -20, max: 60, noNaN: true }), { maxLength: 16 })), weight: 6 },
    { arbitrary: evenLength(fc.array(coordinate, { maxLength: 12 })), weight: 2 },
    fc.array(coordinate, { maxLength: 7 }),
  ),
  { maxLength: 3 },
);
/** Runs that cover h·w (a random partition), often perturbed by one pixel or a bad value. */
const countsFor = (total: number) =>
  fc
    .tuple(
      fc.array(fc.nat(total), { maxLength: 6 }),
      fc.oneof({ arbitrary: fc.constant<unknown>(0), weight: 3 }, fc.constantFrom<unknown>(1, -1, 0.5, "1", null)),
    )
    .map(([cuts, delta]) => {
      const sorted = [...cuts, 0, total].sort((x, y) => x - y);
      const runs: unknown[] = sorted.slice(1).map((v, i) => v - sorted[i]!);
      if (delta !== 0) runs[runs.length - 1] = typeof delta === "number" ? (runs.at(-1) as number) + delta : delta;
      return runs;
    });
const rleCase = image.chain(({ h, w }) =>
  fc.record({
    h: fc.constant(h),
    w: fc.constant(w),
    rle: fc.record(
      {
        size: fc.oneof({ arbitrary: fc.constant([h, w]), weight: 6 }, fc.tuple(fc.nat(41), fc.nat(41)), fc.jsonValue()),
        counts: fc.oneof(
          { arbitrary: countsFor(h * w), weight: 3 },
          {
            arbitrary: countsFor(h * w).map((c) =>
              c.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) ? countsToString(c as number[]) : "",
            ),
            weight: 3,
          },
          fc.string({ maxLength: 10 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    ),
  }),
);

/** Runs the property under a watchdog (a synchronous hang cannot be timed out otherwise). */
async function fuzz<Ts extends unknown[]>(
  t: TestContext,
  target: string,
  runs: number,
  property: fc.IPropertyWithHooks<Ts>,
  rasterised: () => number,
) {
  const dog = await startWatchdog(target);
  try {
    fc.assert(
      property.afterEach((next) => {
        next();
        dog.tick();
      }),
      { numRuns: runs },
    );
  } finally {
    dog.stop();
  }
  t.diagnostic(`${target}: ${runs} cases, ${rasterised()} rasterised, the rest MaskInputError; none crashed or hung`);
}

describe("segmentation fuzzing", () => {
  test("polygon lists (and box lists): a mask or MaskInputError", async (t) => {
    const runs = fuzzRuns(200);
    let ok = 0;
    await fuzz(
      t,
      "segmentation polygons",
      runs,
      fc.property(image, polygons, ({ h, w }, p) => {
        if (rasterOrRefusal(p, h, w)) {
          ok++;
          const limit = polygonCoordinateLimit(h, w);
          assert.ok(p.flat().every((v) => typeof v === "number" && Math.abs(v) <= limit));
        }
      }),
      () => ok,
    );
  });

  test("RLE with plain counts, compressed strings or garbage: a mask or MaskInputError", async (t) => {
    const runs = fuzzRuns(200);
    let ok = 0;
    await fuzz(
      t,
      "segmentation RLE",
      runs,
      fc.property(rleCase, ({ h, w, rle }) => {
        if (rasterOrRefusal(rle, h, w)) ok++;
      }),
      () => ok,
    );
  });

  test("any JSON value: a mask or MaskInputError", async (t) => {
    const runs = fuzzRuns(200);
    let ok = 0;
    await fuzz(
      t,
      "segmentation any JSON",
      runs,
      fc.property(image, fc.jsonValue({ maxDepth: 3 }), ({ h, w }, value) => {
        if (rasterOrRefusal(value, h, w)) ok++;
      }),
      () => ok,
    );
  });
});
