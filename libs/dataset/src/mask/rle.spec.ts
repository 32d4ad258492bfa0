import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { BinaryMask } from "./mask-types.js";
import { rleFromBbox } from "./polygon.js";
import { fromColumnMajor, popcount, runLengthsOf, toColumnMajor } from "./rle-dense.js";
import { compressRle, decodeRle, encodeMask, rleArea, rleIou, rleMerge, rleToBbox } from "./rle-ops.js";
import { countsFromString, countsToString } from "./rle-string.js";

const maskArb: fc.Arbitrary<BinaryMask> = fc
  .record({
    width: fc.integer({ min: 0, max: 24 }),
    height: fc.integer({ min: 0, max: 24 }),
    p: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .chain(({ width, height, p }) =>
    fc
      .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: width * height, maxLength: width * height })
      .map((u) => ({ width, height, data: Uint8Array.from(u, (x) => (x < p ? 1 : 0)) })),
  );

const pairArb = maskArb.chain((a) =>
  fc
    .array(fc.boolean(), { minLength: a.data.length, maxLength: a.data.length })
    .map((bs) => [a, { width: a.width, height: a.height, data: Uint8Array.from(bs, Number) }] as const),
);

describe("RLE properties", () => {
  test("decode(encode(m)) == m", () => {
    fc.assert(fc.property(maskArb, (m) => assert.deepEqual(decodeRle(encodeMask(m)).data, m.data)));
  });

  test("counts string round trip, including big and negative deltas", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 40 }), (counts) => {
        assert.deepEqual(countsFromString(countsToString(counts)), counts);
      }),
    );
  });

  test("area == popcount; bbox is the tight box of the pixels", () => {
    fc.assert(
      fc.property(maskArb, (m) => {
        const r = encodeMask(m);
        assert.equal(rleArea(r), popcount(m));
        let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
        for (let y = 0; y < m.height; y++)
          for (let x = 0; x < m.width; x++)
            if (m.data[y * m.width + x])
              [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        const expected = x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
        const [bx, by, bw, bh] = rleToBbox(r);
        // pycocotools widens to full height when one run spans two columns; the x range is exact.
        assert.deepEqual([bx, bw], [expected[0], expected[2]]);
        if (bh !== m.height) assert.deepEqual([by, bh], [expected[1], expected[3]]);
      }),
    );
  });

  test("merge equals pixelwise OR / AND; IoU symmetric, in [0, 1], equal to pixel counts", () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const ra = encodeMask(a);
        const rb = encodeMask(b);
        const or = a.data.map((v, i) => v | b.data[i]!);
        const and = a.data.map((v, i) => v & b.data[i]!);
        assert.deepEqual(decodeRle(rleMerge([ra, rb])).data, or);
        assert.deepEqual(decodeRle(rleMerge([ra, rb], true)).data, and);
        const iou = rleIou(ra, rb);
        assert.equal(iou, rleIou(rb, ra));
        assert.ok(iou >= 0 && iou <= 1);
        const inter = and.reduce((s, v) => s + v, 0);
        const union = or.reduce((s, v) => s + v, 0);
        assert.equal(iou, inter === 0 ? 0 : inter / union);
      }),
    );
  });

  test("column-major conversion matches pycocotools' Fortran layout", () => {
    fc.assert(
      fc.property(maskArb, (m) => {
        const col = toColumnMajor(m);
        assert.deepEqual(fromColumnMajor(col, m.height, m.width).data, m.data);
        // Runs over the column-major array are the RLE runs.
        const runs: number[] = [];
        let prev = 0;
        let run = 0;
        for (const v of col) {
          if (v !== prev) [runs[runs.length], run, prev] = [run, 0, v];
          run++;
        }
        runs.push(run);
        assert.deepEqual(runLengthsOf(m), runs);
      }),
    );
  });

  test("uncompressed counts are accepted everywhere and compress to the same string", () => {
    const m: BinaryMask = { width: 3, height: 2, data: Uint8Array.from([0, 1, 1, 1, 0, 1]) };
    const compressed = encodeMask(m);
    const plain = { size: compressed.size, counts: countsFromString(compressed.counts as string) };
    assert.deepEqual(plain.counts, [1, 2, 1, 2]);
    assert.equal(compressRle(plain).counts, compressed.counts);
    assert.equal(rleArea(plain), 4);
    assert.deepEqual(decodeRle(plain).data, m.data);
  });

  test("frBbox fills the pixels whose centres lie in the box", () => {
    const r = rleFromBbox([1, 2, 3, 2], 5, 6);
    assert.deepEqual(rleToBbox(r), [1, 2, 3, 2]);
    assert.equal(rleArea(r), 6);
  });

  test("decode rejects runs that do not cover the image", () => {
    assert.throws(() => decodeRle({ size: [2, 2], counts: [1, 2] }), /cover 3 pixels/);
  });
});
