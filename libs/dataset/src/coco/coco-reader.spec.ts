import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { sharedDataPath } from "../shared-data.testing.js";
import { readCocoAnnotations, readCocoBatches, readCocoDataset, readCocoEntries } from "./coco-reader.js";
import { writeFakeCocoFile } from "./fake-coco.testing.js";

const dir = mkdtempSync(join(tmpdir(), "coco-reader-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Rebuilds the whole document from the streamed batches. */
async function rebuild(path: string, chunkSize?: number): Promise<Record<string, unknown>> {
  const doc: Record<string, unknown[] | unknown> = { images: [], annotations: [], categories: [] };
  for await (const b of readCocoBatches(path, { chunkSize })) {
    if (b.section === "other") doc[b.key] = b.value;
    else (doc[b.section] as unknown[]).push(...b.items);
  }
  return doc;
}

describe("streaming COCO reader", () => {
  test("a generated COCO-like file streams to exactly what JSON.parse gives", async () => {
    const path = join(dir, "fake.json");
    await writeFakeCocoFile(path, { images: 300, annotations: 3000, seed: 7 });
    const expected = JSON.parse(readFileSync(path, "utf8"));
    for (const chunkSize of [4096, 65_537, undefined]) {
      assert.deepEqual(await rebuild(path, chunkSize), expected, `chunk size ${chunkSize}`);
    }
    const header = await readCocoDataset(path);
    assert.deepEqual(header.images, expected.images);
    assert.deepEqual(header.categories, expected.categories);
    assert.deepEqual(header.info, expected.info);
    assert.deepEqual(header.licenses, expected.licenses);
    const annotations = [];
    for await (const a of readCocoAnnotations(path, { chunkSize: 10_000 })) annotations.push(a);
    assert.deepEqual(annotations, expected.annotations);
  });

  test("entries come one by one in file order", async () => {
    const path = join(dir, "order.json");
    await writeFakeCocoFile(path, { images: 3, annotations: 5 });
    const kinds: string[] = [];
    for await (const e of readCocoEntries(path)) kinds.push(e.kind);
    assert.deepEqual(kinds, [
      "other",
      "other",
      "image",
      "image",
      "image",
      ...Array(5).fill("annotation"),
      ...Array(80).fill("category"),
    ]);
  });

  for (const name of ["instances_train2017.json", "instances_val2017.json"]) {
    const file = sharedDataPath(`coco-tiny/annotations/${name}`);
    test(`coco-tiny ${name} streams to what JSON.parse gives`, { skip: file.skip }, async () => {
      const expected = JSON.parse(readFileSync(file.path!, "utf8"));
      assert.deepEqual(await rebuild(file.path!, 8192), expected);
    });
  }
});
