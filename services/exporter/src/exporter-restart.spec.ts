// `exits serve exporter` as a process, killed with SIGKILL mid-export and started again: the job
// resumes by itself, keeps the chunks it had finished, and writes what an uninterrupted export writes.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type ExportJob, type ExportJobEvent, JobState } from "@exits/contracts";
import { ContractClient } from "@exits/serving";
import { readAll, referenceExport, writeExportFixture } from "./exporter-fixture.testing.js";

const repoRoot = new URL("../../../", import.meta.url).pathname;
const cli = ["--conditions=source", "--import", "./tools/register.mjs", "libs/cli/src/main.ts", "serve", "exporter"];

function serve(dataDir: string): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, cli, {
    cwd: repoRoot,
    env: {
      ...process.env,
      EXITS_GRPC_HOST: "127.0.0.1",
      EXITS_GRPC_PORT: "0",
      EXITS_METRICS_PORT: "0",
      EXITS_LOG_LEVEL: "info",
      EXITS_SHUTDOWN_DRAIN_MS: "0",
      EXITS_DATA_DIR: dataDir,
      EXITS_EXECUTION_PROVIDER: "cpu",
      EXITS_INTRA_OP_THREADS: "1",
      EXITS_EXPORT_CHUNK_IMAGES: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const port = new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const started = out.split("\n").find((line) => line.includes('"msg":"service started"'));
      if (started) resolve(JSON.parse(started).grpcPort);
    });
  });
  return { child, port };
}

async function statsFiles(jobDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const root = join(jobDir, "shards");
  if (!existsSync(root)) return out;
  for (const shard of await readdir(root))
    for (const file of await readdir(join(root, shard)))
      if (file.endsWith(".stats.json")) out.set(`${shard}/${file}`, (await stat(join(root, shard, file))).mtimeMs);
  return out;
}

test("an export killed with SIGKILL resumes after a restart and writes what an uninterrupted export writes", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "exits-exporter-kill-"));
  const fixture = await writeExportFixture(dataDir, 12);
  const reference = await referenceExport(fixture, join(dataDir, "reference.json"));
  const first = serve(dataDir);
  let client = new ContractClient("exporter", `127.0.0.1:${await first.port}`);
  let second: ReturnType<typeof serve> | undefined;
  try {
    const job = await client.unary<unknown, ExportJob>("startJob", {
      spec: {
        inputAnnotations: fixture.clean,
        imagesDir: fixture.imagesDir,
        outputPath: "out/killed.json",
        config: { batchSize: 1 },
        sharding: { shardCount: 2, parallelism: 1 },
      },
    });
    // Kill as soon as the first chunk is reported finished.
    for await (const e of client.stream<unknown, ExportJobEvent>("watchJob", { jobId: job.jobId })) {
      if (e.report && e.status!.done > 0 && e.status!.state === JobState.JOB_STATE_RUNNING) break;
      assert.notEqual(e.status!.state, JobState.JOB_STATE_SUCCEEDED, "finished before it could be killed");
    }
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    client.close();
    const jobDir = join(dataDir, "jobs", "exporter", job.jobId);
    const kept = await statsFiles(jobDir);
    assert.ok(kept.size >= 1, "a finished chunk survived the kill");
    assert.ok(!existsSync(join(dataDir, "out/killed.json")), "no output yet");

    second = serve(dataDir);
    client = new ContractClient("exporter", `127.0.0.1:${await second.port}`);
    for await (const _ of client.stream("watchJob", { jobId: job.jobId })) {
      // until the terminal event
    }
    const done = await client.unary<unknown, ExportJob>("getJob", { jobId: job.jobId });
    assert.equal(done.status!.state, JobState.JOB_STATE_SUCCEEDED, done.status!.message);
    assert.equal(done.status!.attempt, 2, "resumed automatically once");
    const after = await statsFiles(jobDir);
    for (const [file, mtime] of kept) assert.equal(after.get(file), mtime, `${file} kept, not redone`);
    assert.ok(after.size > kept.size);
    assert.deepEqual(await readAll(join(dataDir, "out/killed.json")), reference);
  } finally {
    client.close();
    first.child.kill("SIGKILL");
    second?.child.kill("SIGKILL");
  }
});
