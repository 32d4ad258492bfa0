import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readCocoAnnotations, readCocoDataset } from "./coco-reader.js";
import type { CocoAnnotation, CocoDataset } from "./coco-types.js";
import { CocoWriter, writeCocoFile } from "./coco-writer.js";

const dir = mkdtempSync(join(tmpdir(), "coco-writer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const dataset: CocoDataset = {
  info: { description: 'test "quoted" ☃' },
  licenses: [{ id: 1, name: "x" }],
  images: [{ id: 1, file_name: "a.jpg", width: 4, height: 3 }],
  categories: [{ id: 5, name: "thing" }],
  extra: { type: "instances" },
};
const annotations: CocoAnnotation[] = Array.from({ length: 2500 }, (_, i) => ({
  id: i + 1,
  image_id: 1,
  category_id: 5,
  segmentation: { size: [3, 4], counts: "0<" },
  area: 12,
  bbox: [0, 0, 4, 3],
  iscrowd: 0,
  extreme_points: [
    [1, 0],
    [0, 1],
    [2, 3],
    [4, 2],
  ],
  score: 0.5,
}));

test("written files parse with JSON.parse and stream back identically", async () => {
  const path = join(dir, "out.json");
  const writer = await CocoWriter.open(path, dataset, { flushBytes: 4096 });
  for (const a of annotations) await writer.write(a);
  await writer.close();
  const parsed = JSON.parse(readFileSync(path, "utf8"));
  assert.deepEqual(parsed.annotations, annotations);
  assert.deepEqual(parsed.images, dataset.images);
  assert.equal(parsed.type, "instances");
  assert.deepEqual(await readCocoDataset(path), dataset);
  const back: CocoAnnotation[] = [];
  for await (const a of readCocoAnnotations(path)) back.push(a);
  assert.deepEqual(back, annotations);
});

test("the file appears only on close; abort and failures leave the old file", async () => {
  const path = join(dir, "atomic.json");
  writeFileSync(path, "old");
  const writer = await CocoWriter.open(path, dataset, { flushBytes: 10 });
  await writer.write(annotations[0]!);
  assert.equal(readFileSync(path, "utf8"), "old", "not replaced before close");
  await writer.abort();
  assert.equal(readFileSync(path, "utf8"), "old");
  async function* failing() {
    yield annotations[0]!;
    throw new Error("boom");
  }
  await assert.rejects(writeCocoFile(path, dataset, failing()), /boom/);
  assert.equal(readFileSync(path, "utf8"), "old");
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith(".")),
    [],
    "no temp files left",
  );
  assert.equal(await writeCocoFile(path, dataset, annotations.slice(0, 3)), 3);
  assert.equal(JSON.parse(readFileSync(path, "utf8")).annotations.length, 3);
});

test("the output name must end in .json", async () => {
  await assert.rejects(CocoWriter.open(join(dir, "out.txt"), dataset), /must end in \.json/);
  assert.equal(existsSync(join(dir, "out.txt")), false);
});
