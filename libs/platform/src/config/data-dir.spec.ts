import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError } from "./config-error.js";
import { ensureDataDir } from "./data-dir.js";

const scratch = mkdtempSync(join(tmpdir(), "exits-data-dir-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function rejects(dir: string, reason: RegExp): void {
  assert.throws(
    () => ensureDataDir(dir),
    (error: unknown) =>
      error instanceof ConfigError && error.variable === "EXITS_DATA_DIR" && reason.test(error.message),
    dir,
  );
}

describe("ensureDataDir", () => {
  test("creates a missing directory, parents included, and leaves no probe file behind", () => {
    const dir = join(scratch, "a", "b");
    ensureDataDir(dir);
    assert.ok(statSync(dir).isDirectory());
    assert.deepEqual(readdirSync(dir), []);
    ensureDataDir(dir);
  });

  test("a file, a path below a file and a directory that cannot be written are rejected, naming EXITS_DATA_DIR", () => {
    const file = join(scratch, "plain-file");
    writeFileSync(file, "x");
    rejects(file, /plain-file is not a directory/);
    rejects(join(file, "below"), /cannot create .*below: (ENOTDIR|EEXIST)/);
    // /proc/self is a directory no one, root included, may create files in.
    if (existsSync("/proc/self")) rejects("/proc/self", /\/proc\/self is not writable: (EACCES|ENOENT|EPERM)/);
  });
});
