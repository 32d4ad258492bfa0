import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeImage } from "../src/image/encode-image.js";
import { maskFromRunLengths } from "../src/mask/rle-dense.js";

const probe = spawnSync("/usr/bin/python3", ["-c", "import cv2"], { encoding: "utf8" });
const skip = probe.status === 0 ? false : "python3-opencv is not importable by /usr/bin/python3";

test("GrabCut worker: segments an easy disc from its box and from its points", { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "exits-gc-"));
  try {
    const W = 80;
    const H = 60;
    const data = new Uint8Array(W * H * 3);
    const gt = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inside = (x + 0.5 - 40) ** 2 + (y + 0.5 - 30) ** 2 <= 15 ** 2;
        gt[y * W + x] = inside ? 1 : 0;
        data.set(inside ? [220, 40, 30] : [30, 60, 200 + ((x * 7 + y * 3) % 40)], (y * W + x) * 3);
      }
    }
    const image = join(dir, "disc.png");
    await writeImage(image, { width: W, height: H, data });
    const points = [
      [39, 15],
      [25, 29],
      [39, 44],
      [54, 29],
    ];
    const jobs = ["rect", "points"].map((mode, id) =>
      JSON.stringify({ id, image, box: [25, 15, 55, 45], points, mode, iterations: 5, context: 0 }),
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
      [0, 1],
    );
    for (const line of lines) {
      assert.equal(line.fallback, undefined);
      const mask = maskFromRunLengths(line.counts, H, W);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < W * H; i++) {
        if (mask.data[i] && gt[i]) inter++;
        if (mask.data[i] || gt[i]) union++;
      }
      assert.ok(inter / union > 0.9, `IoU ${inter / union}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
