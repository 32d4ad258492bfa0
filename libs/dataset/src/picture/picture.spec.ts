import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ExtremePoints } from "../points/extreme-points.js";
import { extremePointsFromMask } from "../points/extreme-points-from-mask.js";
import { generateScene } from "../synthetic/scene.js";
import { contactSheet } from "./contact-sheet.js";
import { contourOf, drawMasks, drawObjects, drawPoints } from "./overlay.js";

function grey(W: number, H: number, v = 100) {
  return { width: W, height: H, data: new Uint8Array(W * H * 3).fill(v) };
}

function square(W: number, H: number, x0: number, y0: number, s: number) {
  const data = new Uint8Array(W * H);
  for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) data[y * W + x] = 1;
  return { width: W, height: H, data };
}

describe("pictures", () => {
  test("mask overlay: outside untouched, contour opaque, inside blended", () => {
    const img = grey(20, 20);
    const mask = square(20, 20, 5, 5, 8);
    const out = drawMasks(img, [{ mask, colour: [200, 0, 0] }], { alpha: 0.5, contour: 1 });
    const px = (x: number, y: number) => [...out.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)];
    assert.deepEqual(px(0, 0), [100, 100, 100]);
    assert.deepEqual(px(5, 5), [200, 0, 0]);
    assert.deepEqual(px(12, 9), [200, 0, 0]);
    assert.deepEqual(px(8, 8), [150, 50, 50]);
    assert.equal(
      contourOf(mask, 1).reduce((s, v) => s + v, 0),
      28,
    );
    assert.equal(
      contourOf(mask, 2).reduce((s, v) => s + v, 0),
      28 + 20,
    );
    assert.deepEqual(img.data, new Uint8Array(20 * 20 * 3).fill(100), "input not modified");
    assert.throws(() => drawMasks(img, [{ mask: square(10, 10, 0, 0, 2) }]), /does not match/);
  });

  test("points: dot in colour, dark ring, clipped at the border", () => {
    const out = drawPoints(
      grey(20, 20),
      [
        [10, 10],
        [0, 0],
      ],
      { radius: 2, colour: [0, 255, 0] },
    );
    const px = (x: number, y: number) => [...out.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)];
    assert.deepEqual(px(10, 10), [0, 255, 0]);
    assert.deepEqual(px(12, 10), [0, 255, 0]);
    assert.deepEqual(px(13, 10), [0, 0, 0]);
    assert.deepEqual(px(15, 10), [100, 100, 100]);
    assert.deepEqual(px(0, 0), [0, 255, 0]);
  });

  test("contact sheet: grid size, one tile per object, masks visible in each tile", () => {
    const scene = generateScene(4, { width: 120, height: 100 });
    const items = scene.objects.map((o) => ({
      image: scene.image,
      mask: o.mask,
      points: extremePointsFromMask(o.mask) as ExtremePoints,
      colour: [255, 0, 255] as [number, number, number],
    }));
    assert.ok(items.length >= 2);
    const sheet = contactSheet(items, { tile: 64, columns: 3, gap: 2 });
    const rows = Math.ceil(items.length / 3);
    assert.equal(sheet.width, 3 * 64 + 4 * 2);
    assert.equal(sheet.height, rows * 64 + (rows + 1) * 2);
    items.forEach((_, k) => {
      const ox = 2 + (k % 3) * 66;
      const oy = 2 + Math.floor(k / 3) * 66;
      let magenta = 0;
      for (let y = oy; y < oy + 64; y++) {
        for (let x = ox; x < ox + 64; x++) {
          const p = (y * sheet.width + x) * 3;
          if (sheet.data[p] === 255 && sheet.data[p + 1] === 0 && sheet.data[p + 2] === 255) magenta++;
        }
      }
      assert.ok(magenta > 20, `tile ${k} shows its contour (${magenta} px)`);
    });
    // Without points the tile's box comes from the mask (toBbox) and must be the same crop: only
    // the dots (radius 2 + 1 ring at tile 64, at most 7 × 7 px each) may differ.
    const maskOnly = contactSheet(
      items.map(({ points: _, ...rest }) => rest),
      { tile: 64, columns: 3, gap: 2 },
    );
    let differing = 0;
    for (let p = 0; p < sheet.width * sheet.height; p++) {
      if ([0, 1, 2].some((c) => sheet.data[p * 3 + c] !== maskOnly.data[p * 3 + c])) differing++;
    }
    assert.ok(differing <= items.length * 4 * 49, `${differing} px differ`);
    const drawn = drawObjects(scene.image, items);
    assert.notDeepEqual(drawn.data, scene.image.data);
  });
});
