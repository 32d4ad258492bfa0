import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { boxFromExtremePoints } from "../crop/box.js";
import type { BinaryMask } from "../mask/mask-types.js";
import { encodeMask, rleToBbox } from "../mask/rle-ops.js";
import { extremePointProblems } from "./extreme-point-checks.js";
import { bboxFromExtremePoints } from "./extreme-points.js";
import { extremePointsFromMask } from "./extreme-points-from-mask.js";

function parse(rows: string[]): BinaryMask {
  return {
    width: rows[0]!.length,
    height: rows.length,
    data: Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0)),
  };
}

const maskArb = fc
  .record({ width: fc.integer({ min: 1, max: 30 }), height: fc.integer({ min: 1, max: 30 }) })
  .chain(({ width, height }) =>
    fc
      .array(fc.boolean(), { minLength: width * height, maxLength: width * height })
      .map((b) => ({ width, height, data: Uint8Array.from(b, Number) })),
  );

describe("extremePointsFromMask (ExtremeNet rule)", () => {
  test("midpoint of the band's range on each side", () => {
    const m = parse(["..........", "...####...", "..######..", ".########.", "..######..", "....##...."]);
    assert.deepEqual(extremePointsFromMask(m), [
      [4, 1],
      [1, 3],
      [4, 5],
      [8, 3],
    ]);
  });

  test("the band is 2 % of the box side: a 100-row shape takes rows ymin..ymin+2", () => {
    const width = 60;
    const height = 100;
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 20; x < 40; x++) data[y * width + x] = 1;
    // Row 0 covers x 20..39; row 2 adds x 10; row 3 (outside the band: 3 > 0 + 0.02·100) adds x 0.
    data[2 * width + 10] = 1;
    data[3 * width + 0] = 1;
    const points = extremePointsFromMask({ width, height, data }, { snap: false })!;
    assert.deepEqual(points[0], [Math.floor((10 + 39) / 2), 0]);
  });

  test("a split top band: raw midpoint falls between the horns, snapping moves it onto the object", () => {
    const m = parse(["#...#", "#####", "#####"]);
    assert.deepEqual(extremePointsFromMask(m, { snap: false })![0], [2, 0]);
    assert.deepEqual(extremePointsFromMask(m)![0], [0, 0]);
  });

  test("empty mask: undefined", () => {
    assert.equal(extremePointsFromMask(parse(["...", "..."])), undefined);
  });

  test("property: points lie on the mask, span its tight box (= toBbox = crop box), and pass the checks", () => {
    fc.assert(
      fc.property(maskArb, (m) => {
        const points = extremePointsFromMask(m);
        if (!points) return assert.ok(m.data.every((v) => v === 0));
        for (const [x, y] of points) assert.equal(m.data[y * m.width + x], 1);
        // One box convention: the points' bbox is pycocotools' toBbox of the mask, and the crop
        // box is the same box in continuous coordinates (x1 = right.x + 1, exclusive).
        const bbox = rleToBbox(encodeMask(m));
        assert.deepEqual(bboxFromExtremePoints(points), bbox);
        assert.deepEqual(boxFromExtremePoints(points), {
          x0: points[1][0],
          y0: points[0][1],
          x1: points[3][0] + 1,
          y1: points[2][1] + 1,
        });
        assert.deepEqual(extremePointProblems(points, { image: m, bbox }), []);
      }),
    );
  });
});

describe("extremePointProblems", () => {
  const ok = [
    [5, 2],
    [2, 4],
    [5, 7],
    [8, 4],
  ];
  test("valid points have no problems", () => {
    assert.deepEqual(extremePointProblems(ok, { image: { width: 10, height: 10 }, bbox: [2, 2, 6, 5] }), []);
  });
  test("names each kind of problem", () => {
    assert.match(extremePointProblems("x")[0]!, /not an array/);
    assert.match(extremePointProblems([[1, 2]])[0]!, /expected 4 extreme points.*got 1/);
    assert.match(extremePointProblems([[1, 2], [1], [3, 4], [5, 6]])[0]!, /left point is not \[x, y\]/);
    assert.match(
      extremePointProblems([
        [1, 2],
        [0, 3],
        [3, Number.NaN],
        [5, 3],
      ])[0]!,
      /bottom point is not \[x, y\] with finite/,
    );
    assert.match(
      extremePointProblems(ok, { image: { width: 6, height: 10 } })[0]!,
      /right \(8, 4\) lies outside the 6x10 image/,
    );
    const swapped = [ok[1], ok[0], ok[2], ok[3]];
    const problems = extremePointProblems(swapped);
    assert.ok(problems.some((p) => /top \(2, 4\) does not have the smallest y/.test(p)));
    assert.ok(problems.some((p) => /left \(5, 2\) does not have the smallest x/.test(p)));
    assert.match(extremePointProblems(ok, { bbox: [2, 2, 6, 9] })[0]!, /bottom \(5, 7\) is 4\.00 px from its side/);
  });
});
