import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fuzzRuns, onlyErrorsOf, runFuzz } from "../fuzz-runs.testing.js";
import { MaskInputError } from "./mask-input-error.js";
import type { BinaryMask, RleMask } from "./mask-types.js";
import { checkedRunLengths } from "./rle-check.js";
import { popcount } from "./rle-dense.js";
import { decodeRle, encodeMask, rleArea, rleIou, rleMerge, rleToBbox, runLengths } from "./rle-ops.js";
import { countsFromString, countsToString } from "./rle-string.js";

// Property-based fuzzing of the RLE codec and operations. Valid masks must round-trip and give
// the dense answers; arbitrary counts, sizes and strings from outside must either work or throw
// MaskInputError: never hang (the aligned-run walk once looped forever on short counts), never
// throw anything else.

const maskArb = (h: number, w: number) =>
  fc.uint8Array({ minLength: h * w, maxLength: h * w }).map((bytes) => ({
    width: w,
    height: h,
    // Mostly solid blobs with some noise, so that runs are of every length.
    data: Uint8Array.from(bytes, (b, i) => (b < 24 ? 1 - ((i >> 3) & 1) : b < 128 ? 1 : 0)),
  }));
const sizedMasks = (count: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .chain(([h, w]) => fc.array(maskArb(h, w), { minLength: count, maxLength: count }));

/** Counts that may or may not fit their size: short, long, negative, fractional, huge, NaN. */
const looseCounts = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: -1 }) },
    { weight: 1, arbitrary: fc.constantFrom(0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, 2 ** 53) },
  ),
  { maxLength: 10 },
);
const looseSize = fc.tuple(fc.integer({ min: -1, max: 6 }), fc.integer({ min: -1, max: 6 }));
/** Runs that cover h·w exactly (zero-length runs included), then often nudged off by one. */
const fittedRle: fc.Arbitrary<RleMask> = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }))
  .chain(([h, w]) =>
    fc.tuple(
      fc.constant([h, w] as [number, number]),
      fc.array(fc.integer({ min: 0, max: h * w }), { maxLength: 8 }),
      fc.constantFrom("exact", "exact", "drop-last", "one-more", "one-less", "extra-run"),
    ),
  )
  .map(([size, cuts, nudge]) => {
    const points = [0, ...cuts.sort((x, y) => x - y), size[0] * size[1]];
    const counts = points.slice(1).map((p, i) => p - points[i]!);
    if (nudge === "drop-last") counts.pop();
    else if (nudge === "one-more") counts[counts.length - 1]! += 1;
    else if (nudge === "one-less" && counts[counts.length - 1]! > 0) counts[counts.length - 1]! -= 1;
    else if (nudge === "extra-run") counts.push(1);
    return { size, counts: nudge === "exact" && cuts.length % 2 ? countsToString(counts) : counts };
  });
const looseRle: fc.Arbitrary<RleMask> = fc.oneof(
  { weight: 3, arbitrary: fittedRle },
  fc.record({ size: looseSize, counts: looseCounts }),
  fc.record({ size: looseSize, counts: fc.string({ maxLength: 12 }) }),
  fc.record({ size: looseSize, counts: fc.stringMatching(/^[0-9:;<=>?@A-Za-o]{0,10}$/) }),
) as fc.Arbitrary<RleMask>;

function dense(masks: BinaryMask[], op: (a: number, b: number) => number): Uint8Array {
  return masks.slice(1).reduce(
    (acc, m) => acc.map((v, i) => op(v, m.data[i] ? 1 : 0)),
    masks[0]!.data.map((v) => (v ? 1 : 0)),
  );
}

describe("RLE fuzz", () => {
  test("encode → decode and encode → string → decode round-trip any mask", async (t) => {
    const runs = fuzzRuns(400);
    await runFuzz(t, "rle round trip", runs, sizedMasks(1), ([m]) => {
      const rle = encodeMask(m!);
      assert.deepEqual(
        decodeRle(rle).data,
        dense([m!], (a) => a),
      );
      const counts = runLengths(rle);
      assert.deepEqual(countsFromString(countsToString(counts)), counts);
      assert.equal(rleArea(rle), popcount(m!));
    });
  });

  test("iou and merge equal the dense computation", async (t) => {
    const runs = fuzzRuns(400);
    await runFuzz(t, "rle iou/merge", runs, fc.tuple(sizedMasks(3), fc.boolean()), ([masks, plain]) => {
      const rles = masks.map((m) => {
        const rle = encodeMask(m);
        return plain ? { size: rle.size, counts: runLengths(rle) } : rle;
      });
      const union = dense(masks, (a, b) => a | b);
      const inter = dense(masks, (a, b) => a & b);
      assert.deepEqual(decodeRle(rleMerge(rles)).data, union);
      assert.deepEqual(decodeRle(rleMerge(rles, true)).data, inter);
      const [a, b] = [masks[0]!, masks[1]!];
      const i = dense([a, b], (x, y) => x & y).reduce((s, v) => s + v, 0);
      const u = dense([a, b], (x, y) => x | y).reduce((s, v) => s + v, 0);
      const iou = rleIou(rles[0]!, rles[1]!);
      // pycocotools' box pre-check makes disjoint boxes 0; otherwise the exact ratio.
      if (i === 0) assert.equal(iou, 0);
      else assert.equal(iou, i / u);
      const box = rleToBbox(rles[0]!);
      assert.ok(box.every((v) => Number.isInteger(v) && v >= 0));
    });
  });

  test("arbitrary RLE into decode, iou, merge, area, bbox: a result or MaskInputError, never a hang", async (t) => {
    const runs = fuzzRuns(1500);
    await runFuzz(t, "rle ops on loose input", runs, fc.tuple(looseRle, looseRle), ([a, b]) => {
      let valid = true;
      onlyErrorsOf([MaskInputError], () => {
        try {
          checkedRunLengths(a);
        } catch (e) {
          valid = false;
          throw e;
        }
      });
      for (const op of [
        () => decodeRle(a),
        () => rleArea(a),
        () => rleToBbox(a),
        () => rleIou(a, b),
        () => rleIou(a, b, true),
        () => rleMerge([a, b]),
        () => rleMerge([a, b], true),
        () => rleMerge([a]),
      ]) {
        onlyErrorsOf([MaskInputError], op);
      }
      // A valid RLE decodes to exactly h·w pixels whatever its counts looked like.
      if (!valid) {
        assert.throws(() => decodeRle(a), MaskInputError);
        return;
      }
      const ma = decodeRle(a);
      assert.equal(ma.data.length, a.size[0] * a.size[1]);
      let bValid = true;
      try {
        checkedRunLengths(b);
      } catch {
        bValid = false;
      }
      if (!bValid || b.size[0] !== a.size[0] || b.size[1] !== a.size[1]) return;
      // Zero-length runs inside valid counts must not change what merge computes.
      const mb = decodeRle(b);
      assert.deepEqual(
        decodeRle(rleMerge([a, b])).data,
        dense([ma, mb], (x, y) => x | y),
      );
      assert.deepEqual(
        decodeRle(rleMerge([a, b], true)).data,
        dense([ma, mb], (x, y) => x & y),
      );
    });
  });

  test("the reported hang: counts [1,2,1,2] against [1,2] on 2×3 throws instead of looping", () => {
    const full = { size: [2, 3] as [number, number], counts: [1, 2, 1, 2] };
    const short = { size: [2, 3] as [number, number], counts: [1, 2] };
    assert.throws(() => rleIou(full, short), MaskInputError);
    assert.throws(() => rleMerge([full, short]), MaskInputError);
    assert.throws(() => rleMerge([short, full], true), MaskInputError);
  });
});
