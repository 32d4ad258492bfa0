// The report is built from a hand-made PipelineResult whose numbers are known: generator masks are
// the ground truth for some objects and empty for the rest, so the ranking, the table and the
// pictures can be checked against what they must show.
import assert from "node:assert/strict";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type BinaryMask, decodeImage, decodeRle, type Point, writeSyntheticDataset } from "@exits/dataset";
import { resolveMethodConfig } from "../config/method-config.js";
import { ObjectSet } from "../data/object-set.js";
import { boxMasks, evaluateMasks, evaluatePoints, groundTruthRle } from "../evaluate/evaluate-masks.js";
import type { PipelineResult } from "../pipeline/run-pipeline.js";
import type { ObjectPoints } from "../retrieval/point-labels.js";
import type { LossRecord } from "../training/train-loop.js";
import { pct } from "./html-text.js";
import { pictureRegion, toPicture } from "./picture-crop.js";
import { writePipelineReport } from "./pipeline-report.js";
import { PICTURE_COLOURS, PICTURE_SIDE } from "./report-pictures.js";
import { ticks } from "./svg-chart.js";

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), "exits-report-"));
  const data = await writeSyntheticDataset({ out: join(dir, "data"), images: 3, seed: 5 });
  const set = await ObjectSet.read(data.annotationsFile, data.imageDir);
  const truth = new Map(set.objects.map((o) => [o.id, decodeRle(groundTruthRle(set, o)!)]));
  const masks = new Map<number, BinaryMask>();
  // Even ids get their ground truth (IoU 1), odd ids an empty mask (IoU 0).
  for (const o of set.objects) {
    const t = truth.get(o.id)!;
    masks.set(o.id, o.id % 2 === 0 ? t : { ...t, data: new Uint8Array(t.data.length) });
  }
  // Points: one pixel inside the ground truth as foreground, the image corner as background.
  const points: ObjectPoints[] = set.objects.map((o) => {
    const t = truth.get(o.id)!;
    const p = t.data.indexOf(1);
    return { id: o.id, foreground: [[p % t.width, Math.floor(p / t.width)]], background: [[0, 0]], candidates: 4 };
  });
  const losses = (names: string[]): LossRecord[] =>
    Array.from({ length: 20 }, (_, i) => ({
      step: i + 1,
      epoch: 0,
      lr: 1e-3,
      losses: Object.fromEntries(names.map((n, k) => [n, (k + 1) / (i + 1)])),
    }));
  const generator = evaluateMasks(set, masks)!;
  const box = evaluateMasks(set, boxMasks(set))!;
  const result: PipelineResult = {
    config: resolveMethodConfig(),
    objects: set.objects.length,
    paths: {
      extractor: "/x/models/extractor",
      generator: "/x/models/generator",
      retrieval: "/x/retrieval/points.json",
      export: "/x/export/a.exits.json",
      exportManifest: "/x/export/a.exits.manifest.json",
    },
    extractor: { losses: losses(["total"]), seconds: 12, steps: 20, stoppedEarly: false, cropsPerSecond: 53.3 },
    generator: {
      losses: losses(["total", "point", "crf"]),
      seconds: 30,
      steps: 20,
      stoppedEarly: true,
      cropsPerSecond: 21.3,
    },
    retrieval: {
      seconds: 1.5,
      objectsWithPoints: set.objects.length,
      report: evaluatePoints(set, points),
    },
    export: { seconds: 2, masksPerSecond: set.objects.length / 2 },
    evaluation: { generator, box },
    masks,
    points,
  };
  return { dir, set, result, truth };
}

const imagesOf = (html: string) => [...html.matchAll(/<img src="([^"]+)" width="(\d+)" height="(\d+)"/g)];
const rowOf = (html: string, label: string) => {
  const row = html.split("<tr").find((r) => r.includes(`>${label}</th>`));
  assert.ok(row, `row ${label}`);
  return [...row.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
};
const count = (img: { data: Uint8Array }, c: readonly number[]) => {
  let n = 0;
  for (let p = 0; p < img.data.length; p += 3)
    if (img.data[p] === c[0] && img.data[p + 1] === c[1] && img.data[p + 2] === c[2]) n++;
  return n;
};

describe("writePipelineReport", () => {
  test("tables hold the evaluation's values; pictures exist, decode and rank by IoU", async () => {
    const { dir, set, result } = await fixture();
    assert.ok(set.objects.length >= 6, `${set.objects.length} objects`);
    const ev = result.evaluation!;
    const out = join(dir, "out");
    const path = await writePipelineReport(result, set, out, {
      title: "a <b> report",
      extra: [{ label: "GrabCut", miou: 0.4321, separated: null }],
      pictures: 3,
    });
    assert.equal(path, join(out, "report.html"));
    const html = await readFile(path, "utf8");
    assert.ok(html.includes("<h1>a &lt;b&gt; report</h1>"), "title escaped");
    assert.ok(!/(href|src)="(https?:)?\/\//.test(html), "no external assets");

    const g = ev.generator;
    assert.deepEqual(rowOf(html, "exits generator"), [
      pct(g.report.classAveragedMIoU),
      pct(g.report.instanceMIoU),
      pct(g.report.bySize.small.mIoU),
      pct(g.report.bySize.medium.mIoU),
      pct(g.report.bySize.large.mIoU),
      pct(g.classAveraged.small),
      pct(g.classAveraged.medium),
      pct(g.classAveraged.large),
      pct(g.report.separated.mIoU),
      pct(g.classAveraged.separated),
    ]);
    assert.equal(rowOf(html, "filled box (baseline)")[0], pct(ev.box.report.classAveragedMIoU));
    const gain = 100 * (g.report.classAveragedMIoU! - ev.box.report.classAveragedMIoU!);
    assert.equal(rowOf(html, "generator − box (points)")[0], `${gain >= 0 ? "+" : "−"}${Math.abs(gain).toFixed(1)}`);
    assert.deepEqual(rowOf(html, "GrabCut").slice(0, 2), ["43.2", "—"]);
    assert.equal(rowOf(html, "objects")[0], String(set.objects.length));

    const rr = result.retrieval.report!;
    assert.equal(rr.foregroundPrecision, 1);
    assert.ok(html.includes(`<td>${pct(rr.foregroundPrecision)} %</td><td>${pct(rr.backgroundPrecision)} %</td>`));
    assert.ok(html.includes(`${set.objects.length} / ${set.objects.length}`));
    assert.ok(html.includes("budget stopped generator training"));

    // One polyline per loss term, each named in a legend.
    assert.equal(html.match(/<polyline/g)?.length, 4);
    for (const name of ["total", "point", "crf"]) assert.ok(html.includes(`>${name}</text>`));

    const images = imagesOf(html);
    const files = images.map((m) => m[1]!);
    const best = files.filter((f) => f.startsWith("report/best-"));
    const worst = files.filter((f) => f.startsWith("report/worst-"));
    assert.equal(best.length, 3);
    assert.equal(worst.length, 3);
    assert.equal(files.filter((f) => f.startsWith("report/points-")).length, 3);
    const idOf = (f: string) => Number(/-(\d+)\.png$/.exec(f)![1]);
    assert.ok(
      best.every((f) => idOf(f) % 2 === 0),
      `best are the IoU-1 masks: ${best}`,
    );
    assert.ok(
      worst.every((f) => idOf(f) % 2 === 1),
      `worst are the empty masks: ${worst}`,
    );
    assert.ok(html.includes("IoU 100.0 %") && html.includes("IoU 0.0 % · empty mask"));

    for (const [, file, w, h] of images) {
      assert.ok((await stat(join(out, file!))).size > 0);
      const image = await decodeImage(join(out, file!));
      assert.deepEqual([image.width, image.height], [Number(w), Number(h)], file);
      assert.equal(Math.max(image.width, image.height), PICTURE_SIDE, `${file} is enlarged or reduced to the side`);
    }
    const bestPicture = await decodeImage(join(out, best[0]!));
    assert.ok(count(bestPicture, PICTURE_COLOURS.prediction) > 20, "prediction contour drawn");
    assert.ok(count(bestPicture, PICTURE_COLOURS.truth) > 20, "ground-truth outline drawn");
    const worstPicture = await decodeImage(join(out, worst[0]!));
    assert.equal(count(worstPicture, PICTURE_COLOURS.prediction), 0, "an empty mask draws nothing");
    const pointsPicture = await decodeImage(join(out, files.find((f) => f.startsWith("report/points-"))!));
    assert.ok(count(pointsPicture, PICTURE_COLOURS.foreground) > 5, "foreground dot drawn");
    assert.ok(count(pointsPicture, PICTURE_COLOURS.extreme) > 4 * 5, "extreme points drawn");
  });

  test("without ground truth: no tables or rankings, a sample of masks instead", async () => {
    const { dir, set, result } = await fixture();
    const { evaluation: _, ...rest } = result;
    const noTruth: PipelineResult = { ...rest, retrieval: { ...result.retrieval, report: undefined } };
    const out = join(dir, "no-truth");
    const html = await readFile(await writePipelineReport(noTruth, set, out), "utf8");
    assert.ok(!html.includes("mIoU (%)"));
    assert.ok(!html.includes("FG precision"));
    assert.ok(!html.includes("IoU"));
    assert.ok(html.includes("random sample"));
    const files = imagesOf(html).map((m) => m[1]!);
    assert.ok(!files.some((f) => f.includes("best-") || f.includes("worst-")));
    const sample = files.filter((f) => f.startsWith("report/mask-"));
    assert.equal(sample.length, Math.min(12, set.objects.length));
    assert.equal(new Set(sample).size, sample.length);
    for (const f of sample) await decodeImage(join(out, f));
  });
});

describe("report pieces", () => {
  test("a small object's region is enlarged to the picture side and maps its box corners onto it", () => {
    const box = { x0: 10, y0: 20, x1: 18, y1: 24 };
    const r = pictureRegion({ width: 100, height: 100 }, box, 192, 0.25);
    assert.deepEqual([r.x0, r.y0, r.x1, r.y1], [8, 19, 20, 25]);
    assert.equal(r.width, 192);
    assert.equal(r.height, 96);
    const corner: Point = toPicture(r, [box.x0 - 0.5, box.y0 - 0.5]);
    assert.deepEqual(corner, [2 * 16 - 0.5, 1 * 16 - 0.5]);
    const clipped = pictureRegion({ width: 100, height: 100 }, { x0: 0, y0: 0, x1: 100, y1: 50 }, 192);
    assert.deepEqual([clipped.x0, clipped.x1, clipped.width], [0, 100, 192]);
  });

  test("axis ticks are round numbers covering the range", () => {
    assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(ticks(1, 20, 6), [5, 10, 15, 20]);
    assert.deepEqual(ticks(0, 0.043), [0, 0.01, 0.02, 0.03, 0.04]);
  });
});
