import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzzRuns } from "./fuzz-runs.js";

test("EXITS_FUZZ_RUNS overrides the default case count; nonsense is refused by name", () => {
  assert.equal(fuzzRuns(200, {}), 200);
  assert.equal(fuzzRuns(200, { EXITS_FUZZ_RUNS: "" }), 200);
  assert.equal(fuzzRuns(200, { EXITS_FUZZ_RUNS: "50000" }), 50000);
  for (const bad of ["0", "-3", "1e5", "many"]) {
    assert.throws(() => fuzzRuns(200, { EXITS_FUZZ_RUNS: bad }), /EXITS_FUZZ_RUNS: expected a positive integer/);
  }
});
