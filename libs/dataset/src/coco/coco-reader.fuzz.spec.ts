import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { fuzzRuns, onlyErrorsOf, onlyErrorsOfAsync, runFuzz } from "../fuzz-runs.testing.js";
import { countsToString } from "../mask/rle-string.js";
import { CocoFileError } from "./coco-file-error.js";
import { CocoInputError } from "./coco-input-error.js";
import { readCocoObjects } from "./coco-objects.js";
import { readCocoBatches } from "./coco-reader.js";
import { JsonTopLevelScanner, type TopLevelEvent } from "./json-top-level-scanner.js";

// The COCO reader takes whole files from outside. Random bytes, byte-mutated COCO files and
// well-formed JSON with junk in every field must give objects or the reader's own errors
// (CocoFileError for the file, CocoInputError for an entry): never a crash, a hang, or an
// outcome that depends on where the read chunks end.

const dir = await mkdtemp(join(tmpdir(), "coco-fuzz-"));
after(() => rm(dir, { recursive: true, force: true }));

const square = [2, 2, 8, 2, 8, 8, 2, 8];
const validDoc = {
  info: { year: 2017 },
  images: [
    { id: 1, file_name: "a.jpg", width: 12, height: 10 },
    { id: 2, file_name: "b.jpg", width: 6, height: 4 },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [2, 2, 6, 6], segmentation: [square], iscrowd: 0 },
    {
      id: 2,
      image_id: 2,
      category_id: 1,
      bbox: [0, 0, 2, 2],
      segmentation: { size: [4, 6], counts: [0, 2, 2, 2, 18] },
    },
    { id: 3, image_id: 1, category_id: 1, segmentation: { size: [10, 12], counts: countsToString([20, 30, 70]) } },
  ],
  categories: [{ id: 1, name: "thing" }],
};
const validText = JSON.stringify(validDoc);

/** Every outcome of the scanner over `bytes` fed in chunks of `size` bytes: "ok" or the message. */
function scanOutcome(bytes: Uint8Array, size: number): string {
  const scanner = new JsonTopLevelScanner((key) => (key === "annotations" ? "elements" : "value"), "fuzz.json");
  const events: TopLevelEvent[] = [];
  try {
    for (let pos = 0; pos < bytes.length; pos += size)
      scanner.feed(Buffer.from(bytes.subarray(pos, pos + size)), events);
    scanner.end();
    return "ok";
  } catch (e) {
    if (!(e instanceof CocoFileError)) throw new Error(`threw a foreign error: ${String(e)}`, { cause: e });
    return e.message;
  }
}

const byteMutation = fc.oneof(
  fc.tuple(fc.constant("set" as const), fc.nat(), fc.constantFrom(...Buffer.from(',:[]{}" 0-e.ntfl\\x'))),
  fc.tuple(fc.constant("delete" as const), fc.nat(), fc.constant(0)),
  fc.tuple(fc.constant("insert" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
);
const mutatedCoco = fc.array(byteMutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
  let bytes = Buffer.from(validText);
  for (const [how, at, value] of mutations) {
    const i = at % bytes.length;
    if (how === "set") bytes[i] = value;
    else if (how === "delete") bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
    else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
  }
  return new Uint8Array(bytes);
});

/** Junk of every JSON type for any field. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1e300, -0.5, 2 ** 31, "", "1", null, [], {}, [1, 2, 3, 4], [Number.MAX_VALUE]),
);
/**
 * The valid value most of the time, else junk: most cases get deep into the checks, and enough
 * of them (about one in ten) are whole valid objects that the happy path is never left untried.
 */
const mostly = <T>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { weight: 16, arbitrary: valid as fc.Arbitrary<unknown> },
    ...others.map((arbitrary) => ({ weight: 1, arbitrary })),
    {
      weight: 1,
      arbitrary: junk,
    },
  );
const junkDoc = fc
  .record({
    images: fc.array(
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.record({
            id: mostly(fc.constantFrom(1, 2)),
            file_name: mostly(fc.constant("a.jpg")),
            width: mostly(fc.constant(12)),
            height: mostly(fc.constant(10)),
          }),
        },
        { weight: 1, arbitrary: junk },
      ),
      { minLength: 1, maxLength: 3 },
    ),
    annotations: fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record(
            {
              id: mostly(fc.nat(9)),
              image_id: mostly(fc.constantFrom(1, 2)),
              category_id: mostly(fc.constant(1)),
              bbox: mostly(fc.constant([2, 2, 6, 6]), fc.tuple(fc.double(), fc.double(), fc.double(), fc.double())),
              segmentation: fc.oneof(
                { weight: 4, arbitrary: fc.constant([square]) },
                {
                  weight: 1,
                  arbitrary: fc.array(
                    fc.array(fc.oneof(fc.double({ min: -50, max: 50 }), fc.constantFrom(1e7, -2e7, Number.NaN)), {
                      maxLength: 8,
                    }),
                    { maxLength: 2 },
                  ),
                },
                fc.record({
                  size: fc.oneof(fc.constant([10, 12]), junk),
                  counts: fc.oneof(fc.array(fc.nat(130), { maxLength: 5 }), fc.string({ maxLength: 6 }), junk),
                }),
                junk,
              ),
              iscrowd: mostly(fc.constant(0), fc.constant(1)),
              extreme_points: mostly(
                fc.constant([
                  [4, 2],
                  [2, 5],
                  [5, 8],
                  [8, 4],
                ]),
                fc.array(fc.tuple(fc.double(), fc.double()), { maxLength: 5 }),
              ),
            },
            { requiredKeys: ["id", "image_id", "category_id"] },
          ),
        },
        junk,
      ),
      { maxLength: 4 },
    ),
    categories: fc.oneof(fc.constant([{ id: 1, name: "thing" }]), fc.array(junk, { maxLength: 2 })),
  })
  .map((doc) => JSON.stringify(doc));

let fileCount = 0;
/** Tallies across cases, so a property that never reaches the happy path shows up. */
const tally = { objects: 0, refused: 0 };
async function readAll(bytes: Uint8Array | string, onInvalid: "throw" | "skip", chunkSize?: number): Promise<void> {
  const file = join(dir, `f${fileCount++}.json`);
  await writeFile(file, bytes);
  await onlyErrorsOfAsync([CocoFileError, CocoInputError], async () => {
    tally.refused++;
    const { objects, report } = await readCocoObjects(file, { onInvalid });
    let n = 0;
    for await (const o of objects) {
      assert.equal(typeof o.annotation.id, "number");
      assert.equal(o.extremePoints.length, 4);
      n++;
    }
    tally.objects += n;
    assert.equal(report.yielded, n);
    tally.refused--;
    for (const e of report.skipped) assert.ok(e instanceof CocoInputError && e.message.startsWith(file));
  });
  if (chunkSize !== undefined) {
    await onlyErrorsOfAsync([CocoFileError], async () => {
      for await (const _ of readCocoBatches(file, { chunkSize })) void _;
    });
  }
  await rm(file);
}

describe("COCO reader fuzz", () => {
  test("the unmutated file reads, so the properties below are not vacuous", async () => {
    const file = join(dir, "valid.json");
    await writeFile(file, validText);
    const { objects, report } = await readCocoObjects(file);
    for await (const _ of objects) void _;
    assert.equal(report.yielded, 3);
  });

  test("scanner on random and mutated bytes: CocoFileError only, the same at chunk sizes 1, 7 and all", async (t) => {
    const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 80 }), mutatedCoco);
    await runFuzz(t, "COCO JSON scanner", fuzzRuns(600), bytesArb, (bytes) => {
      const whole = scanOutcome(bytes, Math.max(1, bytes.length));
      assert.equal(scanOutcome(bytes, 1), whole);
      assert.equal(scanOutcome(bytes, 7), whole);
      // Whatever the scanner accepts, JSON.parse accepts too.
      if (whole === "ok") onlyErrorsOf([], () => JSON.parse(Buffer.from(bytes).toString("utf8")));
    });
  });

  test("readCocoObjects on byte-mutated COCO files: objects, CocoFileError or CocoInputError", async (t) => {
    await runFuzz(t, "readCocoObjects mutated file", fuzzRuns(200), mutatedCoco, (bytes) => readAll(bytes, "throw", 5));
  });

  test("readCocoObjects on well-formed JSON with junk fields, throw and skip modes", async (t) => {
    tally.objects = 0;
    tally.refused = 0;
    await runFuzz(t, "readCocoObjects junk fields", fuzzRuns(300), fc.tuple(junkDoc, fc.boolean()), ([text, skip]) =>
      readAll(text, skip ? "skip" : "throw"),
    );
    t.diagnostic(`junk fields: ${tally.objects} objects yielded, ${tally.refused} files refused`);
    assert.ok(tally.objects > 0 && tally.refused > 0);
  });
});
