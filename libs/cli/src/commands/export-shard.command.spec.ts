// `exits export-shard`: the index from JOB_COMPLETION_INDEX, the job read from the data
// directory, and the exit codes the Indexed Job's pod failure policy relies on.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SHARD_EXIT_PERMANENT, SHARD_EXIT_RETRYABLE, SHARD_EXIT_TERMINATED } from "@exits/cluster";
import { InvalidArgumentError } from "@exits/platform";
import { type ExportShardRequest, runExportShardCommand } from "./export-shard.command.js";

const dataDir = mkdtempSync(join(tmpdir(), "exits-export-shard-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const JOB = "0abcdefgh-0123abcd";
mkdirSync(join(dataDir, "jobs", "exporter", JOB), { recursive: true });
writeFileSync(
  join(dataDir, "jobs", "exporter", JOB, "job.json"),
  JSON.stringify({ format: 1, id: JOB, kind: "exporter", resolvedSpec: { sharding: { shardCount: 3 } } }),
);

const env = { EXITS_DATA_DIR: dataDir };
const never = new AbortController().signal;

describe("exits export-shard", () => {
  test("runs the shard JOB_COMPLETION_INDEX names, in the data directory's job", async () => {
    const calls: ExportShardRequest[] = [];
    const result = await runExportShardCommand(
      { job: JOB },
      { ...env, JOB_COMPLETION_INDEX: "2" },
      async (r) => {
        calls.push(r);
        return { annotations: 5, exported: 4, skipped: 1, alreadyDone: false };
      },
      never,
    );
    assert.equal(result.exitCode, 0, result.message);
    assert.deepEqual(
      calls.map((c) => [c.dataDir, c.jobId, c.index]),
      [[dataDir, JOB, 2]],
    );
    assert.match(result.message, /exported 4 of 5 annotations \(1 skipped\)/);
  });

  test("what no retry can fix exits 2; other failures 1; a stop 143", async () => {
    const ok = async () => ({ annotations: 0, exported: 0, skipped: 0, alreadyDone: true });
    const code = async (o: { job?: string; index?: string }, run = ok, signal = never) =>
      (await runExportShardCommand(o, env, run, signal)).exitCode;
    assert.equal(await code({ job: JOB, index: "1" }), 0);
    assert.equal(await code({ job: JOB, index: "3" }), SHARD_EXIT_PERMANENT, "out of range");
    assert.equal(await code({ job: JOB, index: "-1" }), SHARD_EXIT_PERMANENT);
    assert.equal(await code({ job: JOB }), SHARD_EXIT_PERMANENT, "no index anywhere");
    assert.equal(await code({ job: "../etc", index: "0" }), SHARD_EXIT_PERMANENT);
    assert.equal(await code({ job: "0abcdefgh-ffffffff", index: "0" }), SHARD_EXIT_PERMANENT, "unknown job");
    const invalid = async () => {
      throw new InvalidArgumentError("spec.input_annotations", "annotation 7 has no extreme_points");
    };
    assert.equal(await code({ job: JOB, index: "0" }, invalid), SHARD_EXIT_PERMANENT);
    const crash = async () => {
      throw new Error("ORT session failed: out of memory");
    };
    assert.equal(await code({ job: JOB, index: "0" }, crash), SHARD_EXIT_RETRYABLE);
    const stopped = new AbortController();
    stopped.abort();
    assert.equal(await code({ job: JOB, index: "0" }, crash, stopped.signal), SHARD_EXIT_TERMINATED);
    const missing = await runExportShardCommand({ job: JOB, index: "0" }, env, undefined, never);
    assert.equal(missing.exitCode, SHARD_EXIT_PERMANENT);
  });

  test("@exits/serving provides the shard entry point", async () => {
    const serving = (await import("@exits/serving")) as { runExportShard?: unknown };
    assert.equal(typeof serving.runExportShard, "function");
  });

  test("is a command of the exits CLI", () => {
    const repo = join(import.meta.dirname, "..", "..", "..", "..");
    const run = spawnSync(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "./tools/register.mjs",
        "libs/cli/src/main.ts",
        "export-shard",
        "--job",
        "0abcdefgh-ffffffff",
      ],
      { cwd: repo, encoding: "utf8", env: { ...process.env, ...env, JOB_COMPLETION_INDEX: "0" }, timeout: 60_000 },
    );
    assert.equal(run.status, SHARD_EXIT_PERMANENT, run.stderr);
    assert.match(run.stderr, /export job 0abcdefgh-ffffffff not found/);
  });
});
