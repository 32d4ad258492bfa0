import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, type TestContext, test } from "node:test";
import { fuzzRuns } from "@exits/base";
import fc from "fast-check";
import { float32 } from "../tensor/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import {
  type CheckpointManifest,
  checkpointFormat,
  checkpointFormatVersion,
  parseManifest,
} from "./checkpoint-manifest.js";
import { CheckpointStore } from "./checkpoint-store.js";

// A manifest read from disk must parse into a well-formed manifest or fail with a
// CheckpointError: never a TypeError later, when `files[name].bytes` is read.
// More cases: EXITS_FUZZ_RUNS=20000 node tools/run-tests.mjs libs/runtime/src/checkpoint/checkpoint-manifest.fuzz

const root = mkdtempSync(join(tmpdir(), "exits-manifest-fuzz-"));
after(() => rmSync(root, { recursive: true, force: true }));

const sha = "ab".repeat(32);
const valid = {
  format: checkpointFormat,
  version: checkpointFormatVersion,
  step: 3,
  createdAt: "2025-01-01T00:00:00.000Z",
  files: { "parameters.safetensors": { bytes: 10, sha256: sha }, "state.json": { bytes: 0, sha256: sha } },
  producer: { node: "v20" },
};

/** The shape a parsed manifest must have, checked independently of the parser. */
function wellFormed(m: CheckpointManifest): void {
  assert.equal(m.format, checkpointFormat);
  assert.equal(m.version, checkpointFormatVersion);
  assert.ok(Number.isSafeInteger(m.step) && m.step >= 0);
  assert.equal(typeof m.createdAt, "string");
  for (const f of Object.values(m.files)) {
    assert.ok(Number.isSafeInteger(f.bytes) && f.bytes >= 0);
    assert.match(f.sha256, /^[0-9a-f]{64}$/);
  }
  for (const v of Object.values(m.producer)) assert.equal(typeof v, "string");
}

function parsesOrRefuses(text: string): boolean {
  try {
    wellFormed(parseManifest(text));
    return true;
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    return false;
  }
}

const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, -1, 1.5, 2 ** 53, "3", [], {}, { bytes: 1 }, { sha256: sha }),
);
const paths: [string, ...string[]][] = [
  ["format"],
  ["version"],
  ["step"],
  ["createdAt"],
  ["files"],
  ["producer"],
  ["files", "parameters.safetensors"],
  ["files", "parameters.safetensors", "bytes"],
  ["files", "parameters.safetensors", "sha256"],
  ["files", "__proto__"],
  ["producer", "node"],
  ["producer", "constructor"],
];

/** `valid` with some fields replaced by junk (or deleted), as text. */
const mutatedManifest = fc
  .array(fc.tuple(fc.constantFrom(...paths), fc.option(junk, { freq: 4 })), { maxLength: 3 })
  .map((edits) => {
    const m = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
    for (const [path, value] of edits) {
      let at: unknown = m;
      for (const key of path.slice(0, -1))
        at = at !== null && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
      if (at === null || typeof at !== "object") continue;
      const last = path[path.length - 1]!;
      // defineProperty: "__proto__" becomes a real key in the text, as a hostile file would have it.
      if (value === null) delete (at as Record<string, unknown>)[last];
      else {
        // A copy: generated constants are shared between cases and later edits write into them.
        const copy = JSON.parse(JSON.stringify(value));
        Object.defineProperty(at, last, { value: copy, enumerable: true, writable: true, configurable: true });
      }
    }
    return JSON.stringify(m);
  });

function report(t: TestContext, target: string, cases: number, parsed: number): void {
  t.diagnostic(`${target}: ${cases} cases, ${parsed} parsed, the rest refused with CheckpointError`);
}

describe("checkpoint manifest reader fuzz", () => {
  test("arbitrary text and arbitrary JSON", (t) => {
    let cases = 0;
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          cases++;
          if (parsesOrRefuses(text)) parsed++;
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
    report(t, "manifest arbitrary text/JSON", cases, parsed);
  });

  test("a valid manifest with fields replaced, deleted or added", (t) => {
    let cases = 0;
    let parsed = 0;
    fc.assert(
      fc.property(mutatedManifest, (text) => {
        cases++;
        if (parsesOrRefuses(text)) parsed++;
      }),
      { numRuns: fuzzRuns(1000) },
    );
    report(t, "manifest mutated fields", cases, parsed);
    assert.ok(parsed > cases / 10, "most cases must not be refusals, or the accepting paths go untested");
  });

  test("a checkpoint whose manifest was replaced is refused by verify with a CheckpointError", async (t) => {
    const store = new CheckpointStore(join(root, "store"), { keep: 100 });
    await store.save({ step: 3, parameters: { w: float32([1, 2], [2]) }, optimizerState: {}, config: {} });
    const manifest = join(root, "store", "step-000000003", "manifest.json");
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(mutatedManifest, async (text) => {
        cases++;
        writeFileSync(manifest, text);
        await assert.rejects(store.verify(3), CheckpointError);
      }),
      { numRuns: Math.ceil(fuzzRuns(1000) / 10) },
    );
    t.diagnostic(`checkpoint verify: ${cases} cases, all refused with CheckpointError`);
  });
});
