import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { MaskInputError } from "./mask-input-error.js";
import type { RleMask } from "./mask-types.js";
import { checkedRunLengths, MAX_MASK_PIXELS } from "./rle-check.js";
import { maskFromRunLengths } from "./rle-dense.js";
import { compressRle, decodeRle, encodeMask, rleArea, rleIou, rleMerge, rleToBbox } from "./rle-ops.js";
import { countsFromString, countsToString } from "./rle-string.js";

const rejects = (f: () => unknown, field: string, problem: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof MaskInputError, String(e));
    assert.equal(e.field, field);
    assert.match(e.problem, problem);
    return true;
  });

// The case that hung: on a 2×3 mask, [1, 2, 1, 2] covers 6 pixels and [1, 2] only 3, so the
// aligned-run walk of IoU and merge waited forever for the short one to reach the end. A
// synchronous loop cannot be timed out from inside its own process, so these calls run in a
// child process with a deadline: a regression fails here instead of stalling the run.
const walkCases = `
  const full = { size: [2, 3], counts: [1, 2, 1, 2] };
  const short = { size: [2, 3], counts: [1, 2] };
  const longer = { size: [2, 3], counts: countsToString([1, 2, 1, 2, 5]) };
  const calls = {
    "iou(full, short)": () => rleIou(full, short),
    "iou(short, full)": () => rleIou(short, full),
    "iou matrix": () => rleIouMatrix([full], [short]),
    "union": () => rleMerge([full, short]),
    "intersection": () => rleMerge([full, short], true),
    "merge of one": () => rleMerge([short]),
    "merge past a size mismatch": () => rleMerge([full, { size: [3, 2], counts: [6] }, short]),
    "iou(full, longer)": () => rleIou(full, longer),
  };
  const out = {};
  for (const [name, call] of Object.entries(calls)) {
    try { out[name] = "returned " + JSON.stringify(call()); }
    catch (e) { out[name] = e.name + " " + e.message; }
  }
  console.log(JSON.stringify(out));
`;

function runWalkCases(): Record<string, string> {
  const root = resolve(import.meta.dirname, "../../../..");
  const url = (p: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, p)).href);
  const script = `import { rleIou, rleIouMatrix, rleMerge } from ${url("rle-ops.ts")};
    import { countsToString } from ${url("rle-string.ts")};${walkCases}`;
  const child = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "./tools/register.mjs", "--input-type=module", "-e", script],
    { cwd: root, encoding: "utf8", timeout: 20_000 },
  );
  assert.equal(child.signal, null, `the walk did not end within 20 s (killed by ${child.signal})`);
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout);
}

describe("RLE is checked wherever it enters", () => {
  const short: RleMask = { size: [2, 3], counts: [1, 2] };

  test("IoU and merge of the runs that used to loop forever throw", () => {
    const results = runWalkCases();
    assert.equal(Object.keys(results).length, 8);
    for (const [name, result] of Object.entries(results)) {
      const expected = name.includes("longer") ? /cover more than 2x3 = 6/ : /cover 3 pixels, expected 2x3 = 6/;
      assert.match(result, /^MaskInputError counts: /, name);
      assert.match(result, expected, name);
    }
  });

  test("decode, compress, area, bbox and the string form are checked too", () => {
    for (const f of [decodeRle, compressRle, rleArea, rleToBbox]) rejects(() => f(short), "counts", /cover 3 pixels/);
    rejects(() => decodeRle({ size: [2, 3], counts: countsToString([1, 2]) }), "counts", /cover 3 pixels/);
    rejects(() => decodeRle({ size: [2, 3], counts: "1" }), "counts", /cover 1 pixels/);
    rejects(() => countsFromString("1a"), "counts", /ends inside a value at character 2/);
    rejects(() => maskFromRunLengths([1, 2], 2, 3), "counts", /cover 3 pixels/);
    rejects(() => maskFromRunLengths([1, -1, 6], 2, 3), "counts[1]", /-1 is not a non-negative integer/);
  });

  test("counts must be non-negative finite integers and size two non-negative integers", () => {
    const bad: [unknown, string, RegExp][] = [
      [{ size: [2, 3], counts: [1, 2, -1, 4] }, "counts[2]", /-1 is not a non-negative integer/],
      [{ size: [2, 3], counts: [1, 2.5, 2.5] }, "counts[1]", /2\.5/],
      [{ size: [2, 3], counts: [1, Number.NaN, 5] }, "counts[1]", /NaN/],
      [{ size: [2, 3], counts: [Number.POSITIVE_INFINITY] }, "counts[0]", /Infinity/],
      [{ size: [2, 3], counts: ["6"] }, "counts[0]", /"6"/],
      [{ size: [2, 3], counts: null }, "counts", /neither a compressed string nor a list/],
      [{ size: [2, -3], counts: [] }, "size", /not two non-negative integers/],
      [{ size: [2], counts: [] }, "size", /not \[height, width\]/],
      [{ size: [2 ** 15, 2 ** 15 + 1], counts: [2 ** 30 + 2 ** 15] }, "size", /exceeds the 1073741824-pixel limit/],
      [null, "rle", /not \{size, counts\}/],
    ];
    for (const [rle, field, problem] of bad) rejects(() => checkedRunLengths(rle as RleMask), field, problem);
    assert.equal(MAX_MASK_PIXELS, 2 ** 30);
  });

  test("valid edge cases still pass: empty masks, leading zero runs, zero-length runs inside", {
    timeout: 5000,
  }, () => {
    assert.deepEqual(checkedRunLengths({ size: [0, 0], counts: "" }), []);
    assert.deepEqual(checkedRunLengths({ size: [0, 5], counts: [0] }), [0]);
    assert.deepEqual(
      rleMerge([
        { size: [0, 0], counts: [] },
        { size: [0, 0], counts: [0] },
      ]),
      { size: [0, 0], counts: "0" },
    );
    // Zero-length runs inside plain counts (pycocotools never writes them, but they are legal)
    // stopped the C walk early; here they are skipped, so merge and IoU see the real pixels.
    const zeros: RleMask = { size: [2, 3], counts: [1, 0, 0, 2, 1, 2] };
    const same = encodeMask(decodeRle(zeros));
    assert.deepEqual(decodeRle(zeros).data, Uint8Array.from([0, 1, 1, 1, 0, 1]));
    assert.equal(rleIou(zeros, same), 1);
    assert.deepEqual(decodeRle(rleMerge([zeros, zeros])).data, decodeRle(same).data);
    const a: RleMask = { size: [2, 3], counts: [2, 0, 0, 0, 4] };
    assert.deepEqual(
      decodeRle(rleMerge([a, { size: [2, 3], counts: [2, 0, 4] }])).data,
      decodeRle(same).data.map(() => 0),
    );
    assert.deepEqual(decodeRle(rleMerge([a, same], true)).data, new Uint8Array(6));
  });
});
