// A training job killed with SIGKILL and started again resumes from its last checkpoint and, with
// the same seed, logs exactly the losses an uninterrupted job logs (issue 8 item 4).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeSyntheticDataset } from "@exits/dataset";
import { epochBatches, readLossLog, trainingShape } from "./train-loop.js";

const fixture = join(import.meta.dirname, "fixtures", "tiny-generator-job.ts");
const repo = join(import.meta.dirname, "..", "..", "..", "..");

function job(
  dataDir: string,
  jobDir: string,
  killAfterStep?: number,
): Promise<{ lines: string[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "./tools/register.mjs", fixture, dataDir, jobDir],
      {
        cwd: repo,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const lines: string[] = [];
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const m = /^step (\d+)$/.exec(line);
        if (killAfterStep !== undefined && m && Number(m[1]) >= killAfterStep) child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (_code, signal) => resolve({ lines, signal }));
  });
}

describe("training resume", () => {
  test("batches are a seeded permutation: same seed same order, another seed another", () => {
    assert.deepEqual(epochBatches(3, 0, 10, 3), epochBatches(3, 0, 10, 3));
    assert.notDeepEqual(epochBatches(3, 0, 10, 3), epochBatches(4, 0, 10, 3));
    assert.notDeepEqual(epochBatches(3, 0, 10, 3), epochBatches(3, 1, 10, 3));
    const all = epochBatches(3, 0, 10, 3).flat();
    assert.equal(new Set(all).size, 9, "no object twice in an epoch");
    assert.deepEqual(trainingShape({ batch: 4, epochs: 3 } as never, 10), {
      batch: 4,
      stepsPerEpoch: 2,
      totalSteps: 6,
    });
  });

  test("SIGKILL mid-run, restart: the loss log equals an uninterrupted run's", { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "exits-resume-"));
    const data = join(dir, "data");
    await writeSyntheticDataset({ out: data, images: 8, seed: 5 });
    const straight = await job(data, join(dir, "straight"));
    assert.ok(
      straight.lines.some((l) => l.startsWith("done")),
      "the uninterrupted job finishes",
    );
    const killed = await job(data, join(dir, "killed"), 5);
    assert.equal(killed.signal, "SIGKILL", "the job was killed mid-run");
    assert.ok(!killed.lines.some((l) => l.startsWith("done")));
    const resumed = await job(data, join(dir, "killed"));
    const done = resumed.lines.find((l) => l.startsWith("done"));
    assert.ok(done, "the restarted job finishes");
    const info = JSON.parse(done.slice(5)) as { resumedFrom: number | null; steps: number };
    assert.ok(info.resumedFrom !== null && info.resumedFrom >= 4, `resumed from checkpoint ${info.resumedFrom}`);
    assert.ok(!resumed.lines.includes("step 1"), "the restarted job does not start over");
    const a = await readLossLog(join(dir, "straight", "losses.jsonl"));
    const b = await readLossLog(join(dir, "killed", "losses.jsonl"));
    assert.equal(a.length, info.steps);
    assert.deepEqual(b, a, "same steps, same learning rates, same losses, bit for bit");
    assert.ok(
      a.some((r) => r.losses.crf !== undefined && r.losses.point !== undefined),
      "point and CRF terms are logged",
    );
    const text = await readFile(join(dir, "killed", "losses.jsonl"), "utf8");
    assert.equal(text.trim().split("\n").length, a.length, "no duplicated or torn lines");
  });
});
