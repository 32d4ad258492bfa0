import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { readCocoAnnotations, readCocoDataset } from "../coco/coco-reader.js";
import type { CocoAnnotation } from "../coco/coco-types.js";
import { decodeImage } from "../image/decode-image.js";
import { countComponents } from "../mask/connected-components.js";
import type { RleMask } from "../mask/mask-types.js";
import { decodeRle } from "../mask/rle-ops.js";
import { extremePointProblems } from "../points/extreme-point-checks.js";
import { generateScene } from "./scene.js";
import { SHAPE_FAMILIES } from "./shapes.js";
import { writeSyntheticDataset } from "./synthetic-dataset.js";

describe("synthetic scenes", () => {
  test("deterministic by seed; different seeds give different scenes", () => {
    const a = generateScene(11, { width: 96, height: 80 });
    const b = generateScene(11, { width: 96, height: 80 });
    assert.deepEqual(a.image.data, b.image.data);
    assert.deepEqual(
      a.objects.map((o) => o.mask.data),
      b.objects.map((o) => o.mask.data),
    );
    assert.notDeepEqual(generateScene(12, { width: 96, height: 80 }).image.data, a.image.data);
  });

  test("visible masks are disjoint, large enough, and their part counts are right", () => {
    let objects = 0;
    let split = 0;
    let separated = 0;
    const families = new Set<string>();
    const placements = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const scene = generateScene(seed, { width: 128, height: 128, minVisibleArea: 30 });
      const owner = new Int16Array(128 * 128).fill(-1);
      scene.objects.forEach((o, k) => {
        objects++;
        families.add(o.family);
        placements.add(o.placement);
        assert.ok(o.area >= 30 && o.area <= o.fullArea);
        assert.equal(o.parts, countComponents(o.mask));
        if (o.splitByOccluder) {
          split++;
          assert.ok(o.parts >= 2, "a split object has ≥ 2 visible parts");
        }
        if (o.parts >= 2) separated++;
        o.mask.data.forEach((v, p) => {
          if (!v) return;
          assert.equal(owner[p], -1, `pixel ${p} visible in two objects`);
          owner[p] = k;
        });
      });
    }
    assert.ok(objects >= 60, `${objects} objects`);
    // Default split share 0.3 (of objects at the top when placed; some later get re-covered).
    assert.ok(split / objects > 0.1 && split / objects < 0.5, `split share ${split / objects}`);
    assert.ok(separated >= split);
    assert.equal(families.size, SHAPE_FAMILIES.length);
    assert.deepEqual([...placements].sort(), ["free", "overlapping", "touching"]);
  });

  test("splitShare 0 gives no deliberate splits; splitShare 1 splits many", () => {
    const count = (share: number) => {
      let n = 0;
      let s = 0;
      for (let seed = 0; seed < 15; seed++) {
        for (const o of generateScene(seed, { width: 96, height: 96, splitShare: share }).objects) {
          n++;
          if (o.splitByOccluder) s++;
        }
      }
      return s / n;
    };
    assert.equal(count(0), 0);
    assert.ok(count(1) > 0.4, `share ${count(1)}`);
  });
});

describe("synthetic dataset files", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("writes PNGs and a COCO file whose RLE, points and images match the scenes", async () => {
    const out = await mkdtemp(join(tmpdir(), "exits-syn-"));
    dirs.push(out);
    const scene = { width: 96, height: 72 };
    const summary = await writeSyntheticDataset({ out, images: 4, seed: 3, scene });
    assert.equal(summary.images, 4);
    const dataset = await readCocoDataset(summary.annotationsFile);
    assert.equal(dataset.images.length, 4);
    assert.equal(dataset.categories.length, SHAPE_FAMILIES.length);
    const annotations: CocoAnnotation[] = [];
    for await (const a of readCocoAnnotations(summary.annotationsFile)) annotations.push(a);
    assert.equal(annotations.length, summary.objects);
    for (const image of dataset.images) {
      const expected = generateScene(image.seed as number, scene);
      const decoded = await decodeImage(join(summary.imageDir, image.file_name));
      assert.deepEqual(decoded.data, expected.image.data, "PNG is lossless");
      const mine = annotations.filter((a) => a.image_id === image.id);
      assert.equal(mine.length, expected.objects.length);
      mine.forEach((a, k) => {
        const rle = a.segmentation as RleMask;
        assert.equal(typeof rle.counts, "string");
        assert.deepEqual(decodeRle(rle).data, expected.objects[k]!.mask.data);
        assert.equal(a.area, expected.objects[k]!.area);
        assert.equal(a.num_parts, expected.objects[k]!.parts);
        assert.deepEqual(extremePointProblems(a.extreme_points, { image, bbox: a.bbox }), []);
        for (const [x, y] of a.extreme_points!) assert.equal(expected.objects[k]!.mask.data[y * image.width + x], 1);
      });
    }
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    assert.equal(manifest.seed, 3);
    // A larger set with the same seed extends the smaller one image by image.
    const out2 = await mkdtemp(join(tmpdir(), "exits-syn-"));
    dirs.push(out2);
    await writeSyntheticDataset({ out: out2, images: 5, seed: 3, scene, format: "jpg" });
    const d2 = await readCocoDataset(join(out2, "annotations.json"));
    assert.deepEqual(
      d2.images.slice(0, 4).map((i) => i.seed),
      dataset.images.map((i) => i.seed),
    );
    assert.equal(d2.images[0]!.file_name, "000001.jpg");
  });
});
