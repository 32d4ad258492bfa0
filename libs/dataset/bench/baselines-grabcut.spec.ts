import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { boxFromExtremePoints } from "../src/crop/box.js";
import { writeImage } from "../src/image/encode-image.js";
import { maskFromRunLengths } from "../src/mask/rle-dense.js";
import { encodeMask, rleToBbox } from "../src/mask/rle-ops.js";
import { extremePointsFromMask } from "../src/points/extreme-points-from-mask.js";

const probe = spawnSync("/usr/bin/python3", ["-c", "import cv2"], { encoding: "utf8" });
const skip = probe.status === 0 ? false : "python3-opencv is not importable by /usr/bin/python3";

test("GrabCut worker: segments an easy object from its box and from its points, in image coordinates", {
  skip,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "exits-gc-"));
  try {
    // An off-centre ellipse, and a decoy of the same colour below-right of its box: a rect read as
    // (x0, y0, x1, y1) instead of (x, y, w, h), or a crop offset applied twice, would take the decoy;
    // a box one pixel short would miss the extreme pixels.
    const W = 120;
    const H = 80;
    const inEllipse = (x: number, y: number, cx: number, cy: number, rx: number, ry: number) =>
      ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;
    const data = new Uint8Array(W * H * 3);
    const gtData = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const object = inEllipse(x, y, 80, 30, 18, 10);
        gtData[y * W + x] = object ? 1 : 0;
        const red = object || inEllipse(x, y, 108, 55, 8, 9);
        data.set(red ? [220, 40, 30] : [30, 60, 200 + ((x * 7 + y * 3) % 40)], (y * W + x) * 3);
      }
    }
    const gt = { width: W, height: H, data: gtData };
    const image = join(dir, "ellipse.png");
    await writeImage(image, { width: W, height: H, data });
    const points = extremePointsFromMask(gt)!;
    const b = boxFromExtremePoints(points);
    const cases = ["rect", "points"].flatMap((mode) => [0, 1].map((context) => ({ mode, context })));
    const jobs = cases.map(({ mode, context }, id) =>
      JSON.stringify({ id, image, box: [b.x0, b.y0, b.x1, b.y1], points, mode, iterations: 5, context }),
    );
    const run = spawnSync("/usr/bin/python3", [join(import.meta.dirname, "baselines-grabcut.py")], {
      input: `${jobs.join("\n")}\n`,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.id),
      cases.map((_, i) => i),
    );
    for (const line of lines) {
      const what = JSON.stringify(cases[line.id]);
      assert.equal(line.fallback, undefined, what);
      const mask = maskFromRunLengths(line.counts, H, W);
      // Nothing outside the box, and the mask reaches all four extreme pixels.
      assert.deepEqual(rleToBbox(encodeMask(mask)), [b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0], what);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < W * H; i++) {
        if (mask.data[i] && gtData[i]) inter++;
        if (mask.data[i] || gtData[i]) union++;
      }
      assert.ok(inter / union > 0.9, `${what}: IoU ${inter / union}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
