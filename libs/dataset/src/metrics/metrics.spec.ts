import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BinaryMask } from "../mask/mask-types.js";
import { encodeMask } from "../mask/rle-ops.js";
import { formatMaskReport, formatPointReport } from "./format-report.js";
import { type InstanceScore, scoreInstance, summariseMasks } from "./mask-metrics.js";
import { countRetrievedPoints, summarisePointRetrieval } from "./point-metrics.js";

function rect(width: number, height: number, rects: [number, number, number, number][]): BinaryMask {
  const data = new Uint8Array(width * height);
  for (const [x, y, w, h] of rects) for (let r = y; r < y + h; r++) data.fill(1, r * width + x, r * width + x + w);
  return { width, height, data };
}

describe("mask metrics", () => {
  test("scoreInstance: IoU, GT box area, parts (8-connectivity)", () => {
    const gt = rect(20, 20, [
      [0, 0, 4, 4],
      [10, 10, 2, 2],
    ]);
    const pred = rect(20, 20, [[0, 0, 4, 2]]);
    const s = scoreInstance(pred, encodeMask(gt), { categoryId: 3, id: 9 });
    assert.deepEqual(s, { id: 9, categoryId: 3, iou: 8 / 20, boxArea: 12 * 12, parts: 2 });
    const diagonal = rect(20, 20, [
      [0, 0, 2, 2],
      [2, 2, 2, 2],
    ]);
    assert.equal(scoreInstance(diagonal, diagonal, { categoryId: 1 }).parts, 1, "corner contact joins parts");
    assert.throws(() => scoreInstance(rect(3, 3, []), rect(4, 3, []), { categoryId: 1 }), /sizes differ/);
  });

  test("MAL class-averaged mIoU differs from the instance mean; bins and separated subset", () => {
    const scores: InstanceScore[] = [
      { categoryId: 2, iou: 0.9, boxArea: 100, parts: 1 },
      { categoryId: 2, iou: 0.7, boxArea: 32 * 32, parts: 1 },
      { categoryId: 2, iou: 0.8, boxArea: 96 * 96, parts: 3 },
      { categoryId: 1, iou: 0.2, boxArea: 96 * 96 + 1, parts: 2 },
    ];
    const r = summariseMasks(scores, new Map([[1, "cat"]]));
    assert.ok(Math.abs(r.classAveragedMIoU! - (0.8 + 0.2) / 2) < 1e-12);
    assert.ok(Math.abs(r.instanceMIoU! - 2.6 / 4) < 1e-12);
    assert.deepEqual(
      r.perCategory.map((c) => [c.categoryId, c.name, c.count]),
      [
        [1, "cat", 1],
        [2, undefined, 3],
      ],
    );
    assert.deepEqual([r.bySize.small.count, r.bySize.medium.count, r.bySize.large.count], [1, 2, 1]);
    assert.equal(r.separated.count, 2);
    assert.ok(Math.abs(r.separated.mIoU! - 0.5) < 1e-12);
    assert.equal(r.connected.count, 2);
    assert.deepEqual(summariseMasks(scores.slice().reverse(), new Map([[1, "cat"]])), r, "order-independent");
    const empty = summariseMasks([]);
    assert.equal(empty.classAveragedMIoU, null);
    assert.equal(empty.bySize.small.mIoU, null);
    const table = formatMaskReport(r);
    assert.match(table, /mIoU \(class-averaged, MAL\)\s+4\s+50\.0/);
    assert.match(table, /separated \(≥ 2 parts, 8-conn\.\)\s+2\s+50\.0/);
    assert.match(table, /cat\s+1\s+20\.0/);
  });

  test("point retrieval precision and coverage", () => {
    const gt = rect(10, 10, [[2, 2, 4, 4]]);
    const a = countRetrievedPoints(
      {
        foreground: [
          [3.5, 3.5],
          [2, 2],
          [7, 7],
        ],
        background: [
          [0, 0],
          [9.5, 9.5],
          [4, 4],
          [-1, 5],
        ],
        boxPoints: 10,
      },
      gt,
    );
    assert.deepEqual(a, { foreground: 3, foregroundInside: 2, background: 4, backgroundOutside: 3, boxPoints: 10 });
    // Index space (integer = pixel centre): x = 1.6 lies on pixel 2 (inside), x = 5.6 on pixel 6 (outside).
    assert.deepEqual(countRetrievedPoints({ foreground: [[1.6, 3]], background: [[5.6, 3]], boxPoints: 2 }, gt), {
      foreground: 1,
      foregroundInside: 1,
      background: 1,
      backgroundOutside: 1,
      boxPoints: 2,
    });
    const r = summarisePointRetrieval([
      a,
      { foreground: 1, foregroundInside: 1, background: 0, backgroundOutside: 0, boxPoints: 4 },
    ]);
    assert.equal(r.foregroundPrecision, 3 / 4);
    assert.equal(r.backgroundPrecision, 3 / 4);
    assert.equal(r.coverage, 8 / 14);
    assert.equal(r.objects, 2);
    assert.equal(summarisePointRetrieval([]).coverage, null);
    assert.match(formatPointReport(r), /pseudo-FG precision \(inside GT\)\s+4\s+75\.0/);
  });
});
