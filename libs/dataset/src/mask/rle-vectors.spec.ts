import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { sharedDataPath } from "../shared-data.testing.js";
import type { BinaryMask, RleMask } from "./mask-types.js";
import { rleFromPolygon, rleFromPolygons } from "./polygon.js";
import { runLengthsOf } from "./rle-dense.js";
import { decodeRle, encodeMask, rleArea, rleIou, rleIouMatrix, rleMerge, rleToBbox, runLengths } from "./rle-ops.js";
import { countsFromString, countsToString } from "./rle-string.js";

// Every vector in ../shared/data/rle-vectors.json, produced by pycocotools' C mask API.

interface MaskVector {
  name: string;
  h: number;
  w: number;
  mask_format: "rowmajor_bits" | "rowmajor_runs";
  mask: string | number[];
  ucounts: number[];
  counts: string;
  area: number;
  bbox: number[];
  reencoded_counts?: string;
}
interface PolyVector {
  name: string;
  h: number;
  w: number;
  polygons: number[][];
  per_polygon_counts: string[];
  counts: string;
  ucounts: number[];
  area: number;
  bbox: number[];
  mask_rowmajor_bits?: string;
}
type Side = { h: number; w: number; counts: string };
interface Vectors {
  encode: MaskVector[];
  decode: MaskVector[];
  frPoly: PolyVector[];
  iou: { name: string; dt: Side; gt: Side; gt_iscrowd: number; iou: number }[];
  iou_matrix: { name: string; dt: Side[]; gt: Side[]; gt_iscrowd: number[]; ious: number[][] }[];
  merge: { name: string; intersect: boolean; inputs: Side[]; counts: string; ucounts: number[] }[];
}

const file = sharedDataPath("rle-vectors.json");
const vectors: Vectors | undefined = file.path ? JSON.parse(readFileSync(file.path, "utf8")) : undefined;
const skip = file.skip;

function rowMajor(v: { h: number; w: number; mask_format: string; mask: string | number[] }): BinaryMask {
  const data = new Uint8Array(v.h * v.w);
  if (v.mask_format === "rowmajor_bits") {
    const bits = v.mask as string;
    for (let i = 0; i < bits.length; i++) data[i] = bits.charCodeAt(i) === 49 ? 1 : 0;
  } else {
    let pos = 0;
    (v.mask as number[]).forEach((n, j) => {
      if (j % 2 === 1) data.fill(1, pos, pos + n);
      pos += n;
    });
    assert.equal(pos, v.h * v.w);
  }
  return { width: v.w, height: v.h, data };
}
const rle = (s: Side): RleMask => ({ size: [s.h, s.w], counts: s.counts });
const bits = (m: BinaryMask) => Array.from(m.data, (b) => (b ? "1" : "0")).join("");

describe("rle-vectors.json (pycocotools C output)", { skip }, () => {
  test("encode: run lengths, counts string, area, bbox", () => {
    for (const v of vectors!.encode) {
      const mask = rowMajor(v);
      assert.deepEqual(runLengthsOf(mask), v.ucounts, v.name);
      const enc = encodeMask(mask);
      assert.equal(enc.counts, v.counts, v.name);
      assert.deepEqual(enc.size, [v.h, v.w], v.name);
      assert.equal(countsToString(v.ucounts), v.counts, v.name);
      assert.equal(rleArea(enc), v.area, v.name);
      assert.deepEqual(rleToBbox(enc), v.bbox, v.name);
    }
  });

  test("decode: counts string → runs → mask, area, bbox, re-encoding", () => {
    for (const v of vectors!.decode) {
      assert.deepEqual(countsFromString(v.counts), v.ucounts, v.name);
      const r: RleMask = { size: [v.h, v.w], counts: v.counts };
      assert.deepEqual(decodeRle(r).data, rowMajor(v).data, v.name);
      assert.equal(rleArea(r), v.area, v.name);
      assert.deepEqual(rleToBbox(r), v.bbox, v.name);
      assert.equal(countsToString(countsFromString(v.counts)), v.reencoded_counts, v.name);
    }
  });

  test("frPoly: per-polygon strings, merged object mask, area, bbox", () => {
    for (const v of vectors!.frPoly) {
      v.polygons.forEach((p, i) => {
        assert.equal(rleFromPolygon(p, v.h, v.w).counts, v.per_polygon_counts[i], `${v.name} polygon ${i}`);
      });
      const merged = rleFromPolygons(v.polygons, v.h, v.w);
      assert.equal(merged.counts, v.counts, v.name);
      assert.deepEqual(runLengths(merged), v.ucounts, v.name);
      assert.equal(rleArea(merged), v.area, v.name);
      assert.deepEqual(rleToBbox(merged), v.bbox, v.name);
      if (v.mask_rowmajor_bits) assert.equal(bits(decodeRle(merged)), v.mask_rowmajor_bits, v.name);
    }
  });

  test("iou with the crowd rule, and the iou matrix", () => {
    for (const v of vectors!.iou) assert.equal(rleIou(rle(v.dt), rle(v.gt), v.gt_iscrowd === 1), v.iou, v.name);
    for (const v of vectors!.iou_matrix) {
      const crowd = v.gt_iscrowd.map((c) => c === 1);
      assert.deepEqual(rleIouMatrix(v.dt.map(rle), v.gt.map(rle), crowd), v.ious, v.name);
    }
  });

  test("merge: union and intersection", () => {
    for (const v of vectors!.merge) {
      const out = rleMerge(v.inputs.map(rle), v.intersect);
      assert.equal(out.counts, v.counts, v.name);
      assert.deepEqual(runLengths(out), v.ucounts, v.name);
    }
  });
});
