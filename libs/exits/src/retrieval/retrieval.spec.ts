// Retrieval on a constructed similarity with a known answer: patches of an L-shaped object are
// alike, background patches are alike; Sinkhorn, the walk and the thresholds must label object
// patches foreground and the rest of the box background. Plus seeds, dropout and crop mapping.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRgbImage, type ExtremePoints, flipCropMap, imageToCrop, objectCrop, pointToPatch } from "@exits/dataset";
import { input, Rng } from "@exits/graph";
import { randomWalk, retrievalScore, sinkhorn, symmetricTransition } from "@exits/models";
import { compileGraph } from "@exits/runtime";
import { cropPointLabels } from "./point-labels.js";
import { cropSeeds, seedDistributions } from "./seeds.js";
import { selectPatches } from "./select-points.js";

const grid = 8;
const m = grid * grid;
// A 64 × 64 image; the object's box spans x 16..47, y 16..47; with margin 0 the crop IS the box.
const image = createRgbImage(64, 64);
const points: ExtremePoints = [
  [20, 16],
  [16, 40],
  [20, 47],
  [47, 44],
];
const crop = objectCrop(image, points, 64, { margins: { left: 0.5, right: 0.5, top: 0.5, bottom: 0.5 } });

describe("retrieval on a constructed similarity", () => {
  test("seeds: moved inward by δ patches, background = patches outside the box", () => {
    const s0 = cropSeeds(crop, grid, 0);
    const s1 = cropSeeds(crop, grid, 1);
    const top0 = pointToPatch(crop.points[0], 64, grid);
    assert.ok(s0.foreground.includes(top0[1] * grid + top0[0]));
    assert.ok(s1.foreground.includes((top0[1] + 1) * grid + top0[0]), "top seed one patch lower");
    for (const i of s1.background) assert.equal(s1.inBox[i], 0);
    assert.equal(s1.background.length + s1.inBox.reduce((a, b) => a + b, 0), m);
    const dist = new Float32Array(2 * m);
    seedDistributions(s1, dist, 0);
    assert.ok(Math.abs(dist.slice(0, m).reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.ok(Math.abs(dist.slice(m).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  });

  test("Sinkhorn + walk + thresholds label the object's patches and only them", async () => {
    const seeds = cropSeeds(crop, grid, 1);
    // The object: box patches in the left column band or the bottom row band (an L), seeds included.
    const object = new Uint8Array(m);
    for (let i = 0; i < m; i++) {
      const col = i % grid;
      const row = Math.floor(i / grid);
      if (seeds.inBox[i] && (col <= 3 || row >= 5)) object[i] = 1;
    }
    for (const i of seeds.foreground) assert.equal(object[i], 1, `seed ${i} lies on the constructed object`);
    const s = new Float32Array(m * m);
    for (let i = 0; i < m; i++) {
      let z = 0;
      for (let j = 0; j < m; j++) z += s[i * m + j] = object[i] === object[j] ? 1 : 0.05;
      for (let j = 0; j < m; j++) s[i * m + j]! /= z;
    }
    const S = input("s", [1, m, m]);
    const seed = input("seeds", [1, 2, m]);
    const { doubly, iterations } = sinkhorn(S, { maxIterations: 50, tolerance: 1e-4 });
    const score = retrievalScore(randomWalk(seed, symmetricTransition(doubly), 2));
    const g = await compileGraph({ score, iterations });
    const dist = new Float32Array(2 * m);
    seedDistributions(seeds, dist, 0);
    const out = await g.run({
      s: { dtype: "float32", shape: [1, m, m], data: s },
      seeds: { dtype: "float32", shape: [1, 2, m], data: dist },
    });
    await g.release();
    const sc = out.score!.data as Float32Array;
    for (const mode of ["quantile", "fixed"] as const) {
      const picked = selectPatches(sc, seeds, { mode, tauFg: 0.25, tauBg: -0.1, fgFraction: 0.25, bgFraction: 0.25 });
      assert.ok(picked.foreground.length > 0 && picked.background.length > 0, `${mode}: labels on both sides`);
      for (const i of picked.foreground) assert.equal(object[i], 1, `${mode}: FG patch ${i} is on the object`);
      for (const i of picked.background) assert.equal(object[i], 0, `${mode}: BG patch ${i} is off the object`);
      for (const i of [...picked.foreground, ...picked.background])
        assert.equal(seeds.inBox[i], 1, "only box patches get labels");
      for (const i of seeds.foreground) assert.ok(!picked.foreground.includes(i), "seeds are not candidates");
    }
  });

  test("point labels: mapped into a flipped crop, dropout never touches seeds, fallback without points", () => {
    const flipped = { ...crop, map: flipCropMap(crop.map) };
    const flippedCrop = objectCrop(image, points, 64, { margins: crop.margins, flipped: true });
    assert.deepEqual(flippedCrop.map, flipped.map);
    const fgPoint: [number, number] = [18, 44];
    const retrieved = { id: 1, foreground: [fgPoint], background: [[40, 20] as [number, number]], candidates: 10 };
    const labels = cropPointLabels(flippedCrop, grid, 1, retrieved, undefined);
    const [col, row] = pointToPatch(imageToCrop(flippedCrop.map, fgPoint), 64, grid);
    assert.equal(labels.target[row * grid + col], 1, "the FG point lands on its mirrored patch");
    assert.equal(labels.fallback, false);
    const seeds = cropSeeds(flippedCrop, grid, 1);
    const rng = new Rng(3);
    for (let k = 0; k < 20; k++) {
      const dropped = cropPointLabels(flippedCrop, grid, 1, retrieved, { rng, p: 1 });
      for (const i of seeds.foreground) assert.equal(dropped.target[i], 1, "FG seeds are never dropped");
      for (const i of seeds.background) assert.equal(dropped.known[i], 1, "BG seeds are never dropped");
      assert.equal(
        dropped.target[row * grid + col],
        seeds.foreground.includes(row * grid + col) ? 1 : 0,
        "p = 1 drops every retrieved point",
      );
    }
    assert.equal(cropPointLabels(flippedCrop, grid, 1, undefined, undefined).fallback, true);
  });
});
