// Sharded export scaling on one machine: the same export as 1 shard and as 2 shards run side by
// side by the local shard runner (child processes of `exits export-shard`, what an Indexed Job's
// pods run). efficiency = t1 / (2 · t2): 1.0 is perfect scaling over two workers.
//
//   node --conditions=source --import ./tools/register.mjs bench/shards/shards.bench.ts \
//     --data-dir DIR --job1 <export job id, shard_count 1> --job2 <same spec, shard_count 2> \
//     [--threads N] [--json FILE]
//
// Both jobs must already be recorded and planned by the exporter (job.json and plan/ under
// <data dir>/jobs/exporter/<id>/). Their shard outputs (shards/) are removed before each timed
// run, or the shard command would return at once for a finished shard. Each shard gets
// EXITS_INTRA_OP_THREADS=--threads (default 1) so two shards do not oversubscribe the cores.
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ChildProcessShardRunner, type ShardEvent } from "@exits/cluster";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    job1: { type: "string" },
    job2: { type: "string" },
    threads: { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const dataDir = resolve(values["data-dir"] ?? process.env["EXITS_DATA_DIR"] ?? ".exits-data");
if (!values.job1 || !values.job2) {
  console.error("usage: shards.bench.ts --data-dir DIR --job1 <1-shard export> --job2 <2-shard export> [--json FILE]");
  process.exit(2);
}
const repo = resolve(import.meta.dirname, "..", "..");
const runner = new ChildProcessShardRunner({
  cwd: repo,
  env: { EXITS_DATA_DIR: dataDir, EXITS_INTRA_OP_THREADS: values.threads! },
  shardCommand: (jobId, index) => ({
    command: process.execPath,
    args: [
      "--conditions=source",
      "--import",
      "./tools/register.mjs",
      "libs/cli/src/main.ts",
      "export-shard",
      "--job",
      jobId,
      "--index",
      String(index),
    ],
  }),
});

async function timed(jobId: string, shards: number): Promise<number> {
  rmSync(join(dataDir, "jobs", "exporter", jobId, "shards"), { recursive: true, force: true });
  const start = performance.now();
  let finished: Extract<ShardEvent, { type: "finished" }> | undefined;
  for await (const e of runner.run({ exportJobId: jobId, shards, parallelism: shards, retriesPerShard: 0 })) {
    if (e.type === "failed") console.error(`shard ${e.index} of ${jobId} failed: ${e.reason}`);
    if (e.type === "finished") finished = e;
  }
  if (!finished || finished.failed.length > 0) throw new Error(`export ${jobId} did not finish`);
  return (performance.now() - start) / 1000;
}

const t1 = await timed(values.job1, 1);
const t2 = await timed(values.job2, 2);
const result = {
  t1Seconds: t1,
  t2Seconds: t2,
  speedup: t1 / t2,
  efficiency: t1 / (2 * t2),
  threads: Number(values.threads),
};
console.log(
  `1 shard ${t1.toFixed(2)} s, 2 shards ${t2.toFixed(2)} s: speedup ${result.speedup.toFixed(2)}, efficiency ${result.efficiency.toFixed(2)}`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
