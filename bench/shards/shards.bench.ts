// Sharded export scaling on one machine: the same export job run as 1 shard and as 2 shards side
// by side, each shard a child process `exits export-shard` (the local shard runner, what an
// Indexed Job's pods run), one ONNX Runtime thread per process. efficiency = t1 / (2 · t2):
// 1.0 is perfect scaling over two workers.
//
//   node --conditions=source --import ./tools/register.mjs bench/shards/shards.bench.ts \
//     [--images 6000] [--threads 1] [--data-dir DIR] [--json FILE]
//
// Writes a tiny generator and a synthetic dataset (fixed seeds) into DIR (default a temporary
// directory, removed afterwards), then runs both jobs through ExportJobs exactly as the exporter
// does with EXITS_EXPORT_SHARD_RUNNER=process: plan in the parent, shards as children, merge in
// the parent. t1 and t2 are the shard phases (first shard start to last shard end); the whole
// jobs (plan and merge included, both serial) are reported too. Both outputs must be equal.
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { silentLogger } from "@exits/base";
import { ChildProcessShardRunner } from "@exits/cluster";
import { type ExportJob, InvalidPolicy, JobState } from "@exits/contracts";
import { readCocoAnnotations, writeSyntheticDataset } from "@exits/dataset";
import { DataPaths, ExportJobs, ModelRegistry, writeTinyGenerator } from "@exits/serving";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "6000" },
    threads: { type: "string", default: "1" },
    "data-dir": { type: "string" },
    json: { type: "string" },
  },
});
const images = Number(values.images);
const threads = Number(values.threads);
const repo = resolve(import.meta.dirname, "..", "..");
const dataDir = values["data-dir"] ? resolve(values["data-dir"]) : await mkdtemp(join(tmpdir(), "exits-shards-bench-"));

if (!existsSync(join(dataDir, "data", "annotations.json"))) {
  await writeTinyGenerator(dataDir, "models/generator", 7);
  await writeSyntheticDataset({
    out: join(dataDir, "data"),
    images,
    seed: 5,
    scene: { width: 96, height: 96, minObjects: 3, maxObjects: 6 },
  });
}

const paths = new DataPaths(dataDir);
const generators = new ModelRegistry({ paths, kind: "generator", defaultModel: "models/generator", pollMs: 0 });
const jobs = new ExportJobs({
  dataDir,
  paths,
  generators,
  serviceProvider: "cpu",
  intraOpThreads: threads,
  logger: silentLogger,
  shardRunners: {
    local: new ChildProcessShardRunner({
      env: {
        EXITS_DATA_DIR: dataDir,
        EXITS_EXECUTION_PROVIDER: "cpu",
        EXITS_INTRA_OP_THREADS: String(threads),
        EXITS_LOG_LEVEL: "error",
      },
      shardCommand: (jobId, index) => ({
        command: process.execPath,
        args: [
          "--conditions=source",
          "--import",
          join(repo, "tools/register.mjs"),
          join(repo, "libs/cli/src/main.ts"),
          "export-shard",
          "--job",
          jobId,
          "--index",
          String(index),
        ],
      }),
    }),
  },
});
await jobs.recover();

async function run(shards: number) {
  const outputPath = `out/shards-${shards}-${Date.now()}.json`;
  const started = await jobs.start({
    requestId: "",
    spec: {
      displayName: "",
      labels: {},
      inputAnnotations: "data/annotations.json",
      imagesDir: "data/images",
      outputPath,
      overwrite: false,
      generatorModel: "",
      sharding: { shardCount: shards, parallelism: shards, retriesPerShard: 0, kubernetesIndexedJob: false },
      invalidPolicy: InvalidPolicy.INVALID_POLICY_SKIP,
      keepSkipped: false,
    },
  });
  for await (const _ of jobs.watch({ jobId: started.jobId, afterSequence: 0 })) {
    // until the job is terminal
  }
  const job: ExportJob = jobs.get({ jobId: started.jobId });
  if (job.status!.state !== JobState.JOB_STATE_SUCCEEDED) throw new Error(`${shards} shard(s): ${job.status!.message}`);
  const record = jobs.manager.get(started.jobId);
  const s = record.extras.shards;
  const shardPhase = (Math.max(...s.map((x) => x.finishedAtMs)) - Math.min(...s.map((x) => x.startedAtMs))) / 1000;
  const whole = (record.status.finishedAtMs - record.status.startedAtMs) / 1000;
  const annotations = [];
  for await (const a of readCocoAnnotations(join(dataDir, outputPath))) annotations.push(a);
  return { shardPhase, whole, annotations, perShard: s.map((x) => (x.finishedAtMs - x.startedAtMs) / 1000) };
}

const load = loadavg()[0]!;
const one = await run(1);
const two = await run(2);
await jobs.close();
await generators.close();
if (!isDeepStrictEqual(one.annotations, two.annotations)) throw new Error("2 shards wrote a different output than 1");
if (!values["data-dir"]) await rm(dataDir, { recursive: true, force: true });

const result = {
  images,
  annotations: one.annotations.length,
  threadsPerProcess: threads,
  cpus: cpus().length,
  loadAverageBefore: load,
  t1Seconds: one.shardPhase,
  t2Seconds: two.shardPhase,
  speedup: one.shardPhase / two.shardPhase,
  efficiency: one.shardPhase / (2 * two.shardPhase),
  twoShardsSeconds: two.perShard,
  wholeJob1Seconds: one.whole,
  wholeJob2Seconds: two.whole,
  wholeJobEfficiency: one.whole / (2 * two.whole),
};
console.log(
  `${result.annotations} annotations on ${images} images, ${threads} thread(s) per shard process, ${result.cpus} CPUs (load ${load.toFixed(2)} before):\n` +
    `  shards: 1 shard ${result.t1Seconds.toFixed(2)} s, 2 shards ${result.t2Seconds.toFixed(2)} s ` +
    `(${two.perShard.map((t) => t.toFixed(2)).join(" s, ")} s): speedup ${result.speedup.toFixed(2)}, efficiency ${result.efficiency.toFixed(2)}\n` +
    `  whole job (plan + shards + merge): ${result.wholeJob1Seconds.toFixed(2)} s vs ${result.wholeJob2Seconds.toFixed(2)} s, efficiency ${result.wholeJobEfficiency.toFixed(2)}`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
