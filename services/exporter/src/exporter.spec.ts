// ExporterService over real gRPC on loopback: a tiny generator, a synthetic dataset with extreme
// points, real ONNX Runtime sessions; outputs checked against exportDataset run in process.
import assert from "node:assert/strict";
import { mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type ExportJob,
  type ExportJobEvent,
  type ExportJobSpec,
  InvalidPolicy,
  JobState,
  type ListSkippedResponse,
  SkipReason,
} from "@exits/contracts";
import { encodeMask } from "@exits/dataset";
import { cropMaskPredictor, gridOf, loadModel, MaskPredictor, ObjectSet, resolveMethodConfig } from "@exits/exits";
import {
  loopbackServiceEnv,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import { ContractClient, CrfEngine, inProcessCrfRefiner, resolveCrfSettings } from "@exits/serving";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { EXPORTER_SERVICE_SPEC } from "./exporter.service-spec.js";
import { type ExportFixture, readAll, referenceExport, writeExportFixture } from "./exporter-fixture.testing.js";

let fixture: ExportFixture;
let service: RunningService;
let client: ContractClient;
let reference: Awaited<ReturnType<typeof referenceExport>>;

function spec(over: Partial<ExportJobSpec>): Partial<ExportJobSpec> {
  return { inputAnnotations: fixture.clean, imagesDir: fixture.imagesDir, outputPath: "out/x.json", ...over };
}

const start = (s: Partial<ExportJobSpec>, requestId = "") =>
  client.unary<unknown, ExportJob>("startJob", { spec: s, requestId });

async function finished(jobId: string): Promise<{ job: ExportJob; events: ExportJobEvent[] }> {
  const events: ExportJobEvent[] = [];
  for await (const e of client.stream<unknown, ExportJobEvent>("watchJob", { jobId })) events.push(e);
  return { job: await client.unary<unknown, ExportJob>("getJob", { jobId }), events };
}

async function rejects(call: Promise<unknown>, code: keyof typeof grpcStatus, pattern: RegExp) {
  await assert.rejects(call, (e: ServiceError) => {
    assert.equal(grpcStatus[e.code], code, e.details);
    assert.match(e.details, pattern);
    return true;
  });
}

before(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "exits-exporter-"));
  fixture = await writeExportFixture(dataDir);
  reference = await referenceExport(fixture, join(dataDir, "reference.json"));
  service = await startGrpcService(
    EXPORTER_SERVICE_SPEC,
    loopbackServiceEnv(dataDir, { EXITS_EXPORT_CHUNK_IMAGES: "2" }),
  );
  client = new ContractClient("exporter", `127.0.0.1:${service.grpcPort}`);
});

after(async () => {
  client?.close();
  await service?.shutdown("test over");
});

describe("ExporterService", () => {
  test("an export job succeeds; its output equals exportDataset in process; 2 shards equal 1", async () => {
    const one = await start(spec({ outputPath: "out/one.json" }), "req-one");
    assert.equal(one.status!.state, JobState.JOB_STATE_QUEUED);
    const again = await start(spec({ outputPath: "out/other.json" }), "req-one");
    assert.equal(again.jobId, one.jobId, "same request_id → the first job");
    const { job, events } = await finished(one.jobId);
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
    assert.equal(job.resolvedSpec!.generatorModel, "models/generator");
    assert.equal(job.resolvedSpec!.config!.pasteThreshold, 0.5);
    assert.equal(job.resolvedSpec!.sharding!.shardCount, 1);
    assert.equal(job.report!.annotationsExported, fixture.cleanCount);
    assert.equal(job.report!.annotationsSkipped, 0);
    assert.equal(job.manifestPath, "out/one.manifest.json");
    assert.equal(job.report!.reportPath, "out/one.report.json");
    assert.ok(
      events.some((e) => e.shard),
      "shard events",
    );
    assert.ok(
      events.some((e) => e.report),
      "report events",
    );
    assert.equal(events[events.length - 1]!.stateChanged?.current, JobState.JOB_STATE_SUCCEEDED);
    const single = await readAll(join(fixture.dataDir, "out/one.json"));
    assert.deepEqual(
      single.map((a) => [a.id, a.segmentation, a.score, a.area, a.bbox]),
      reference.map((a) => [a.id, a.segmentation, a.score, a.area, a.bbox]),
      "same RLE and score per annotation as exportDataset in process",
    );
    assert.deepEqual(single, reference);

    const two = await start(spec({ outputPath: "out/two.json", sharding: { shardCount: 2, parallelism: 2 } }));
    const done = await finished(two.jobId);
    assert.equal(done.job.status!.state, JobState.JOB_STATE_SUCCEEDED, done.job.status!.message);
    assert.equal(done.job.shards.length, 2);
    assert.ok(done.job.shards.every((s) => s.annotations > 0 && s.status!.state === JobState.JOB_STATE_SUCCEEDED));
    assert.deepEqual(
      await readAll(join(fixture.dataDir, "out/two.json")),
      single,
      "2 shards merge to the 1-shard output",
    );

    const metrics = await scrapeMetrics("127.0.0.1", service.metricsPort);
    assert.ok(
      metricSample(metrics, "exits_export_annotations_total", { outcome: "exported" })! >= 2 * fixture.cleanCount,
    );
    assert.ok(metricSample(metrics, "exits_export_mask_seconds_count", {})! > 0);

    await rejects(start(spec({ outputPath: "out/one.json" })), "ALREADY_EXISTS", /spec\.output_path.*overwrite/);
    const over = await finished((await start(spec({ outputPath: "out/one.json", overwrite: true }))).jobId);
    assert.equal(over.job.status!.state, JobState.JOB_STATE_SUCCEEDED);
  });

  test("crf_refine: the CRF refines each crop's probabilities before paste-back, with the job's CRF settings", async () => {
    const { job } = await finished(
      (await start(spec({ outputPath: "out/crf.json", config: { crfRefine: true, crf: { iterations: 5 } } }))).jobId,
    );
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
    assert.equal(job.resolvedSpec!.config!.crfRefine, true);
    assert.equal(job.resolvedSpec!.config!.crf!.iterations, 5);
    const refined = await readAll(join(fixture.dataDir, "out/crf.json"));
    // The same library path by hand: generator probabilities → CRF (5 iterations) → paste-back.
    const { manifest, parameters } = await loadModel(join(fixture.dataDir, "models/generator"), "generator");
    const c = resolveMethodConfig(
      { export: { threshold: 0.5, batch: 16 }, crf: { iterations: 5 }, seed: 0 },
      manifest.config,
    );
    const set = await ObjectSet.read(join(fixture.dataDir, fixture.clean), join(fixture.dataDir, fixture.imagesDir), {
      points: "annotation",
    });
    const predictor = await MaskPredictor.create(c, parameters, 16, {
      runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
    });
    const engine = new CrfEngine({
      runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
      maxBatch: 16,
      maxObjects: 1e6,
    });
    try {
      const settings = resolveCrfSettings(c.crf, undefined, "crf");
      const expected = await cropMaskPredictor(predictor, c, (probabilities, crops) =>
        inProcessCrfRefiner(engine).refine(
          crops.map((crop, k) => ({ crop, probabilities: probabilities[k]! })),
          settings,
          gridOf(c).maskSize,
        ),
      ).predictObjects(set, set.objects);
      const byId = new Map(refined.map((a) => [a.id, a]));
      set.objects.forEach((o, k) => {
        const a = byId.get(o.id)!;
        assert.equal(
          (a.segmentation as { counts: string }).counts,
          encodeMask(expected[k]!.mask).counts,
          `annotation ${o.id}`,
        );
      });
    } finally {
      await predictor.release();
      await engine.close();
    }
    const plain = new Map(reference.map((a) => [a.id, (a.segmentation as { counts: string }).counts]));
    assert.ok(
      refined.some((a) => (a.segmentation as { counts: string }).counts !== plain.get(a.id)),
      "refinement changes some masks",
    );
  });

  test("bad annotations are skipped with their reasons, counted, listed and paged; REJECT fails naming the first", async () => {
    const { job } = await finished(
      (await start(spec({ inputAnnotations: fixture.bad, outputPath: "out/bad.json" }))).jobId,
    );
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
    assert.equal(job.report!.annotationsExported, fixture.cleanCount);
    assert.equal(job.report!.annotationsSkipped, fixture.expectedSkips.size);
    assert.equal(job.report!.annotationsTotal, fixture.cleanCount + fixture.expectedSkips.size);
    const all: ListSkippedResponse["skipped"] = [];
    let pageToken = "";
    do {
      const page = await client.unary<unknown, ListSkippedResponse>("listSkipped", {
        jobId: job.jobId,
        pageSize: 3,
        pageToken,
      });
      assert.ok(page.skipped.length <= 3);
      all.push(...page.skipped);
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(
      all.map((s) => [s.annotationId, SkipReason[s.reason]]),
      [...fixture.expectedSkips].map(([id, r]) => [id, `SKIP_REASON_${r}`]),
      "every crafted annotation, by id, with its reason",
    );
    for (const s of all) assert.ok(s.message.length > 0 && !s.message.includes(fixture.dataDir), s.message);
    const invalid = await client.unary<unknown, ListSkippedResponse>("listSkipped", {
      jobId: job.jobId,
      reasons: [SkipReason.SKIP_REASON_IMAGE_INVALID],
    });
    assert.deepEqual(
      invalid.skipped.map((s) => s.annotationId),
      [1005, 1006, 1008],
    );
    const counted = Object.fromEntries(job.report!.skippedByReason.map((c) => [SkipReason[c.reason], c.count]));
    assert.equal(counted.SKIP_REASON_IMAGE_INVALID, 3);
    assert.equal(counted.SKIP_REASON_DEGENERATE_BOX, 1);

    const kept = await finished(
      (await start(spec({ inputAnnotations: fixture.bad, outputPath: "out/kept.json", keepSkipped: true }))).jobId,
    );
    assert.equal(kept.job.status!.state, JobState.JOB_STATE_SUCCEEDED);
    const written = await readAll(join(fixture.dataDir, "out/kept.json"));
    assert.equal(written.length, fixture.cleanCount + fixture.expectedSkips.size);
    assert.equal(written.filter((a) => a.segmentation === undefined).length, fixture.expectedSkips.size);

    const rejected = await finished(
      (
        await start(
          spec({
            inputAnnotations: fixture.bad,
            outputPath: "out/rej.json",
            invalidPolicy: InvalidPolicy.INVALID_POLICY_REJECT,
          }),
        )
      ).jobId,
    );
    assert.equal(rejected.job.status!.state, JobState.JOB_STATE_FAILED);
    assert.equal(rejected.job.status!.error!.code, "INVALID_ARGUMENT");
    assert.match(rejected.job.status!.error!.message, /annotation 1001: extreme_points/);
  });

  test("every path field is checked inside the data directory; bad config and sharding are refused", async () => {
    const outside = await mkdtemp(join(tmpdir(), "exits-outside-"));
    await symlink(outside, join(fixture.dataDir, "escape"));
    await writeFile(join(outside, "a.json"), "{}");
    const cases: [Partial<ExportJobSpec>, RegExp][] = [
      [{ inputAnnotations: "../a.json" }, /spec\.input_annotations/],
      [{ inputAnnotations: "/etc/passwd" }, /spec\.input_annotations.*absolute/],
      [{ inputAnnotations: "escape/a.json" }, /spec\.input_annotations.*symbolic link/],
      [{ imagesDir: "../images" }, /spec\.images_dir/],
      [{ imagesDir: "escape" }, /spec\.images_dir.*symbolic link/],
      [{ outputPath: "../o.json" }, /spec\.output_path/],
      [{ outputPath: "escape/o.json" }, /spec\.output_path.*symbolic link/],
      [{ outputPath: "out/o.txt" }, /spec\.output_path.*\.json/],
      [{ generatorModel: "../models/generator" }, /spec\.generator_model/],
      [{ config: { pasteThreshold: 1.5 } }, /spec\.config\.paste_threshold/],
      [{ config: { batchSize: 0 } }, /spec\.config\.batch_size/],
      [{ config: { crop: { fill: 2 } } }, /spec\.config\.crop\.fill: only FILL_MODE_MIRROR/],
      [{ config: { crfRefine: true, crf: { iterations: 0 } } }, /spec\.config\.crf\.iterations/],
      [{ sharding: { shardCount: 0 } }, /spec\.sharding\.shard_count/],
      [{ sharding: { shardCount: 2, shardIndex: 2 } }, /spec\.sharding\.shard_index/],
    ];
    for (const [over, pattern] of cases) await rejects(start(spec(over)), "INVALID_ARGUMENT", pattern);
    await rejects(start(spec({ inputAnnotations: "data/none.json" })), "NOT_FOUND", /spec\.input_annotations/);
    await rejects(start(spec({ generatorModel: "models/none" })), "NOT_FOUND", /models\/none/);
    await rejects(
      start(spec({ sharding: { kubernetesIndexedJob: true } })),
      "FAILED_PRECONDITION",
      /no cluster is configured/,
    );
  });

  test("unknown job ids are NOT_FOUND; cancel twice; resuming a live job is FAILED_PRECONDITION", async () => {
    const jobId = "000000000-00000000";
    await rejects(client.unary("getJob", { jobId }), "NOT_FOUND", /000000000-00000000/);
    await rejects(client.unary("cancelJob", { jobId }), "NOT_FOUND", /000000000-00000000/);
    await rejects(client.unary("resumeJob", { jobId }), "NOT_FOUND", /000000000-00000000/);
    await rejects(client.unary("listSkipped", { jobId }), "NOT_FOUND", /000000000-00000000/);
    await rejects(
      (async () => {
        for await (const _ of client.stream("watchJob", { jobId })) break;
      })(),
      "NOT_FOUND",
      /000000000-00000000/,
    );
    const job = await start(spec({ outputPath: "out/cancel.json" }));
    await rejects(client.unary("resumeJob", { jobId: job.jobId }), "FAILED_PRECONDITION", /queued|running/);
    const first = await client.unary<unknown, ExportJob>("cancelJob", { jobId: job.jobId, reason: "test" });
    const second = await client.unary<unknown, ExportJob>("cancelJob", { jobId: job.jobId });
    assert.ok([JobState.JOB_STATE_CANCELLING, JobState.JOB_STATE_CANCELLED].includes(first.status!.state));
    const { job: stopped } = await finished(job.jobId);
    assert.equal(stopped.status!.state, JobState.JOB_STATE_CANCELLED);
    assert.ok([JobState.JOB_STATE_CANCELLING, JobState.JOB_STATE_CANCELLED].includes(second.status!.state));
    const resumed = await client.unary<unknown, ExportJob>("resumeJob", { jobId: job.jobId });
    assert.equal(resumed.status!.attempt, 2);
    const { job: after } = await finished(job.jobId);
    assert.equal(after.status!.state, JobState.JOB_STATE_SUCCEEDED, after.status!.message);
    assert.deepEqual(await readAll(join(fixture.dataDir, "out/cancel.json")), reference);
    const list = await client.unary<unknown, { jobs: ExportJob[] }>("listJobs", { pageSize: 2 });
    assert.equal(list.jobs.length, 2);
  });
});
