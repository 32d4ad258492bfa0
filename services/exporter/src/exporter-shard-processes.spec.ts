// EXITS_EXPORT_SHARD_RUNNER=process: the exporter runs each shard as a child process
// `exits export-shard` (what an Indexed Job's pods run) and merges their outputs; the result is
// that of exportDataset in one process, RLE for RLE. A shard that fails for good (REJECT on an
// image that does not decode) fails the job with the shard's own error, without retries.
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type ExportJob, type ExportJobEvent, InvalidPolicy, JobState } from "@exits/contracts";
import {
  loopbackServiceEnv,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import { ContractClient } from "@exits/serving";
import { EXPORTER_SERVICE_SPEC } from "./exporter.service-spec.js";
import {
  EXITS_FROM_SOURCE,
  type ExportFixture,
  readAll,
  referenceExport,
  writeExportFixture,
} from "./exporter-fixture.testing.js";

let fixture: ExportFixture;
let service: RunningService;
let client: ContractClient;

before(async () => {
  fixture = await writeExportFixture(await mkdtemp(join(tmpdir(), "exits-exporter-processes-")), 8);
  service = await startGrpcService(
    EXPORTER_SERVICE_SPEC,
    loopbackServiceEnv(fixture.dataDir, {
      EXITS_EXPORT_CHUNK_IMAGES: "2",
      EXITS_EXPORT_SHARD_RUNNER: "process",
      EXITS_EXPORT_SHARD_COMMAND: JSON.stringify(EXITS_FROM_SOURCE),
    }),
  );
  client = new ContractClient("exporter", `127.0.0.1:${service.grpcPort}`);
});

after(async () => {
  client?.close();
  await service?.shutdown("test over");
});

async function finished(jobId: string): Promise<{ job: ExportJob; events: ExportJobEvent[] }> {
  const events: ExportJobEvent[] = [];
  for await (const e of client.stream<unknown, ExportJobEvent>("watchJob", { jobId })) events.push(e);
  return { job: await client.unary<unknown, ExportJob>("getJob", { jobId }), events };
}

test("2 child-process shards merge to what one in-process export writes; a permanent shard failure fails the job", async () => {
  const reference = await referenceExport(fixture, join(fixture.dataDir, "reference.json"));
  const started = await client.unary<unknown, ExportJob>("startJob", {
    spec: {
      inputAnnotations: fixture.clean,
      imagesDir: fixture.imagesDir,
      outputPath: "out/processes.json",
      sharding: { shardCount: 2, parallelism: 2, retriesPerShard: 1 },
    },
  });
  const { job, events } = await finished(started.jobId);
  assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
  assert.equal(job.kubernetesJob, "");
  assert.deepEqual(
    job.shards.map((s) => [s.shardIndex, s.status!.state, s.status!.attempt]),
    [
      [0, JobState.JOB_STATE_SUCCEEDED, 1],
      [1, JobState.JOB_STATE_SUCCEEDED, 1],
    ],
  );
  assert.ok(job.shards.every((s) => s.annotations > 0));
  const merged = await readAll(join(fixture.dataDir, "out/processes.json"));
  assert.equal(merged.length, fixture.cleanCount);
  assert.deepEqual(
    merged.map((a) => [a.id, a.segmentation, a.score]),
    reference.map((a) => [a.id, a.segmentation, a.score]),
    "same RLE and score per annotation as exportDataset in one process",
  );
  assert.deepEqual(merged, reference);
  assert.equal(job.report!.annotationsExported, fixture.cleanCount);
  assert.ok(
    events.some(
      (e) =>
        e.status!.state === JobState.JOB_STATE_RUNNING && e.status!.done > 0 && e.status!.done < fixture.cleanCount,
    ),
    "progress while the shards run",
  );
  // The masks were made by the children: the exporter's own predictor never ran.
  const metrics = await scrapeMetrics("127.0.0.1", service.metricsPort);
  assert.equal(metricSample(metrics, "exits_export_mask_seconds_count", {}) ?? 0, 0);
  assert.equal(metricSample(metrics, "exits_export_annotations_total", { outcome: "exported" }), fixture.cleanCount);

  // An image whose header reads but whose pixels do not decode: the plan keeps it, its shard
  // process fails under REJECT (exit 2, no retry) and the job fails with that shard's error.
  const clean = JSON.parse(await readFile(join(fixture.dataDir, fixture.clean), "utf8"));
  const [image] = clean.images;
  const png = await readFile(join(fixture.dataDir, fixture.imagesDir, image.file_name));
  await writeFile(join(fixture.dataDir, fixture.imagesDir, "half.png"), png.subarray(0, png.length >> 1));
  clean.images.push({ ...image, id: 103, file_name: "half.png" });
  clean.annotations.push({ ...clean.annotations[0], id: 5006, image_id: 103 });
  await writeFile(join(fixture.dataDir, "data/truncated.json"), JSON.stringify(clean));
  const rejected = await finished(
    (
      await client.unary<unknown, ExportJob>("startJob", {
        spec: {
          inputAnnotations: "data/truncated.json",
          imagesDir: fixture.imagesDir,
          outputPath: "out/rejected.json",
          invalidPolicy: InvalidPolicy.INVALID_POLICY_REJECT,
          sharding: { shardCount: 2, parallelism: 2, retriesPerShard: 2 },
        },
      })
    ).jobId,
  );
  assert.equal(rejected.job.status!.state, JobState.JOB_STATE_FAILED);
  assert.equal(rejected.job.status!.error!.code, "INVALID_ARGUMENT", rejected.job.status!.error!.message);
  assert.match(rejected.job.status!.error!.message, /annotation 5006: images\[id=103\]/);
  const failed = rejected.job.shards.find((s) => s.status!.state === JobState.JOB_STATE_FAILED)!;
  assert.equal(failed.shardIndex, 1);
  assert.equal(failed.status!.attempt, 1, "a permanent failure is not retried");
  assert.equal(failed.status!.error!.code, "INVALID_ARGUMENT");
});
