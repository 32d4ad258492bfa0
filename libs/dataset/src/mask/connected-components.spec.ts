import assert from "node:assert/strict";
import { test } from "node:test";
import { componentSizes, countComponents } from "./connected-components.js";
import type { BinaryMask } from "./mask-types.js";

function parse(rows: string[]): BinaryMask {
  const data = Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0));
  return { width: rows[0]!.length, height: rows.length, data };
}

test("countComponents uses 8-connectivity", () => {
  assert.equal(countComponents(parse(["....", "...."])), 0);
  assert.equal(countComponents(parse(["#...", ".#..", "..#."])), 1, "diagonal chain is one part");
  assert.equal(countComponents(parse(["#.#.", "....", "##.#"])), 4);
  assert.equal(countComponents(parse(["###", "#.#", "###"])), 1, "ring");
  assert.equal(countComponents(parse(["#..#", "#..#", "####"])), 1, "U shape");
  assert.equal(countComponents(parse(["##..##", "##..##"])), 2, "split by an occluder column");
});

test("componentSizes counts each part's pixels in row-major order of first pixel", () => {
  assert.deepEqual(componentSizes(parse(["....", "...."])), []);
  assert.deepEqual(componentSizes(parse(["#.##", "..##", "#..."])), [1, 4, 1]);
  assert.deepEqual(componentSizes(parse(["##..##", "##..#."])), [4, 3]);
});
