// TrainerService over real gRPC on loopback, tiny models on a synthetic dataset in a temp data
// directory: extractor → sweep → generator jobs that succeed with models and manifests, the Watch
// stream, request_id idempotency, cancel twice, resume while running, unknown ids, bad config
// values and escaping paths named by their proto field, and `exits serve trainer` killed with
// SIGKILL mid-job and restarted: the job resumes from its checkpoint to the same loss log.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JobState, type TrainingJob, type TrainingJobEvent, type TrainingJobSpec } from "@exits/contracts";
import { writeSyntheticDataset } from "@exits/dataset";
import {
  contractServiceSpec,
  loopbackServiceEnv,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import { ContractClient } from "@exits/serving";
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { TrainerModule } from "./trainer.module.js";

const repoRoot = new URL("../../../", import.meta.url).pathname;
const env = (dataDir: string) => loopbackServiceEnv(dataDir);

const TINY_VIT = { patchSize: 8, embedDim: 16, depth: 1, numHeads: 2 };
const DATASET = { annotations: "datasets/syn/annotations.json", imagesDir: "datasets/syn/images" };

function extractorSpec(extra: Partial<TrainingJobSpec> = {}, epochs = 1): Partial<TrainingJobSpec> {
  return {
    outputDir: "models/extractor",
    extractor: {
      dataset: { ...DATASET, categoryIds: [], maxAnnotations: 0 },
      config: {
        crop: { cropSize: 32, fill: 0 },
        vit: { ...TINY_VIT, pretrainedWeights: "" },
        schedule: { epochs, batchSize: 4, logEverySteps: 1, checkpointEverySteps: 2 },
        optimizer: { lr: 1e-3 },
      },
    },
    ...extra,
  } as Partial<TrainingJobSpec>;
}

function generatorSpec(outputDir: string, epochs = 1, validation = false): Partial<TrainingJobSpec> {
  return {
    outputDir,
    generator: {
      dataset: { ...DATASET, categoryIds: [], maxAnnotations: 0 },
      extractorModel: "models/extractor",
      config: {
        decoder: { hiddenChannels: 8 },
        crf: { iterations: 3 },
        loss: { lambdaCrfWarmupSteps: 4 },
        schedule: { epochs, batchSize: 4, logEverySteps: 1, checkpointEverySteps: 2 },
        optimizer: { lr: 1e-3 },
      },
      ...(validation ? { validation: { ...DATASET, categoryIds: [], maxAnnotations: 0 } } : {}),
    },
  } as Partial<TrainingJobSpec>;
}

async function watchAll(client: ContractClient, jobId: string): Promise<TrainingJobEvent[]> {
  const events: TrainingJobEvent[] = [];
  for await (const e of client.stream<unknown, TrainingJobEvent>("watchJob", { jobId, afterSequence: 0 }))
    events.push(e);
  return events;
}

async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error("the call succeeded");
}

async function expectInvalid(
  client: ContractClient,
  spec: Partial<TrainingJobSpec>,
  field: string,
  code = "INVALID_ARGUMENT",
) {
  const e = await rejection(client.unary("startJob", { spec, requestId: "" }));
  assert.equal(status[e.code], code, `${field}: ${e.details}`);
  assert.ok(e.details.includes(field), `"${e.details}" names ${field}`);
}

const lossLog = async (dataDir: string, jobId: string) =>
  (await readFile(join(dataDir, "jobs/trainer", jobId, "train/losses.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("TrainerService over real gRPC on loopback", () => {
  let dir: string;
  let outside: string;
  let service: RunningService;
  let client: ContractClient;
  let generatorJobId = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "exits-trainer-"));
    outside = await mkdtemp(join(tmpdir(), "exits-outside-"));
    await writeSyntheticDataset({ out: join(dir, "datasets/syn"), images: 4, seed: 3 });
    await writeSyntheticDataset({ out: outside, images: 1, seed: 4 });
    await symlink(outside, join(dir, "escape"));
    service = await startGrpcService(contractServiceSpec("trainer", TrainerModule), env(dir));
    client = new ContractClient("trainer", `127.0.0.1:${service.grpcPort}`);
  });
  after(async () => {
    client?.close();
    await service?.shutdown("test over");
  });

  test("extractor job: idempotent start, Watch shows steps, losses, lr, ETA, checkpoints, ends SUCCEEDED with a model", {
    timeout: 60_000,
  }, async () => {
    const first = await client.unary<unknown, TrainingJob>("startJob", { spec: extractorSpec(), requestId: "ext-1" });
    const again = await client.unary<unknown, TrainingJob>("startJob", { spec: extractorSpec(), requestId: "ext-1" });
    assert.equal(again.jobId, first.jobId, "same request_id → same job");
    assert.equal(first.status!.state, JobState.JOB_STATE_QUEUED);
    // resolved_spec: every default filled in.
    const resolved = first.resolvedSpec!.extractor!.config!;
    assert.equal(resolved.crop!.cropSize, 32);
    assert.equal(resolved.crop!.inferenceMargin, 0.3);
    assert.equal(resolved.vit!.mlpRatio, 4);
    assert.equal(resolved.optimizer!.beta2, 0.9);
    assert.equal(resolved.optimizer!.weightDecay, 5e-4);
    assert.equal(resolved.schedule!.warmupEpochs, 1);
    assert.equal(resolved.similarity!.attentionLayer, -1);
    assert.equal(resolved.execution!.intraOpThreads, 1);
    const events = await watchAll(client, first.jobId);
    const progress = events.filter((e) => e.progress).map((e) => e.progress!);
    assert.ok(progress.length >= 2, `${progress.length} progress events`);
    const total = progress[0]!.totalSteps;
    assert.deepEqual(
      progress.map((p) => p.step),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    for (const p of progress) {
      assert.ok(Number.isFinite(p.lossMil) && p.lossMil > 0, "L_mil reported");
      assert.ok(Math.abs(p.loss - p.lossMil) < 1e-5, "the extractor's loss is L_mil");
      assert.ok(p.lr > 0 && p.lr <= 1e-3);
      assert.ok(p.objectsPerSecond > 0);
    }
    assert.ok(
      events.some((e) => e.progress && e.status!.etaMs > 0 && e.progress.step < total),
      "an ETA while running",
    );
    assert.ok(
      events.some((e) => e.checkpointSaved?.path.startsWith(`jobs/trainer/${first.jobId}/`)),
      "a checkpoint_saved event",
    );
    const last = events.at(-1)!;
    assert.equal(last.stateChanged?.current, JobState.JOB_STATE_SUCCEEDED, JSON.stringify(last));
    const job = await client.unary<unknown, TrainingJob>("getJob", { jobId: first.jobId });
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED);
    assert.equal(job.status!.progress, 1);
    assert.equal(job.artifacts!.model, "models/extractor");
    const manifest = JSON.parse(await readFile(join(dir, job.artifacts!.manifest), "utf8"));
    assert.equal(manifest.kind, "extractor");
    assert.equal(manifest.config.crop.size, 32);
    assert.ok(existsSync(join(dir, "models/extractor/weights.safetensors")));
    // A finished model is never overwritten.
    await expectInvalid(client, extractorSpec(), "spec.output_dir", "ALREADY_EXISTS");
    const metrics = await scrapeMetrics("127.0.0.1", service.metricsPort);
    assert.ok((metricSample(metrics, "exits_training_steps_total", {}) ?? 0) >= total);
    assert.ok((metricSample(metrics, "exits_training_step_seconds_count", {}) ?? 0) >= total);
  });

  test("retrieval sweep job: table written, chosen values recorded in the extractor's manifest", {
    timeout: 60_000,
  }, async () => {
    const job = await client.unary<unknown, TrainingJob>("startJob", {
      spec: {
        outputDir: "sweeps/s1",
        retrievalSweep: {
          extractorModel: "models/extractor",
          validation: { ...DATASET, categoryIds: [], maxAnnotations: 0 },
          config: { alphas: [1, 2], tauFgs: [0.25, 1], tauBgs: [-0.25], minCoverage: 0, maxObjects: 6 },
        },
      },
      requestId: "",
    });
    const events = await watchAll(client, job.jobId);
    assert.equal(events.at(-1)!.stateChanged?.current, JobState.JOB_STATE_SUCCEEDED, JSON.stringify(events.at(-1)));
    const evaluations = events.filter((e) => e.evaluation).map((e) => e.evaluation!);
    assert.equal(evaluations.length, 4, "one evaluation per candidate");
    assert.equal(evaluations.filter((e) => e.chosen).length, 1);
    const done = await client.unary<unknown, TrainingJob>("getJob", { jobId: job.jobId });
    assert.equal(done.artifacts!.sweepTable, "sweeps/s1/sweep.json");
    const manifest = JSON.parse(await readFile(join(dir, "models/extractor/manifest.json"), "utf8"));
    assert.equal(manifest.config.retrieval.alpha, done.artifacts!.chosenRetrieval!.alpha);
    assert.equal(manifest.config.retrieval.mode, "fixed");
    assert.ok(manifest.sweep);
  });

  test("generator job on that extractor: SUCCEEDED with the EMA teacher saved, losses and λ_crf, validation mIoU", {
    timeout: 90_000,
  }, async () => {
    const job = await client.unary<unknown, TrainingJob>("startJob", {
      spec: generatorSpec("models/generator", 2, true),
      requestId: "",
    });
    generatorJobId = job.jobId;
    const resolved = job.resolvedSpec!.generator!.config!;
    assert.equal(resolved.vit!.embedDim, 16, "the ViT defaults to the extractor's");
    assert.equal(resolved.decoder!.maskResolution, 8, "R defaults to crop_size / 4");
    assert.equal(resolved.emaMomentum, 0.996);
    const events = await watchAll(client, job.jobId);
    assert.equal(events.at(-1)!.stateChanged?.current, JobState.JOB_STATE_SUCCEEDED, JSON.stringify(events.at(-1)));
    const progress = events.filter((e) => e.progress).map((e) => e.progress!);
    assert.ok(progress.every((p) => Number.isFinite(p.lossPoint) && p.lossCrf >= 0 && p.lambdaCrf > 0));
    assert.ok(progress.at(-1)!.epoch === 1, "epochs counted from 0");
    // One validation result per epoch (2 epochs), in order, each a fraction.
    const evaluations = events.filter((e) => e.evaluation).map((e) => e.evaluation!);
    assert.deepEqual(
      evaluations.map((e) => e.epoch),
      [0, 1],
    );
    for (const e of evaluations) assert.ok(e.miou >= 0 && e.miou <= 1 && e.instanceMiou >= 0 && e.instanceMiou <= 1);
    const final = await client.unary<unknown, TrainingJob>("getJob", { jobId: job.jobId });
    assert.deepEqual(final.lastEvaluation, evaluations.at(-1));
    const manifest = JSON.parse(await readFile(join(dir, "models/generator/manifest.json"), "utf8"));
    assert.equal(manifest.kind, "generator");
    assert.equal(manifest.training.weights, "ema-teacher");
  });

  test("cancel twice is fine; resuming a running job is FAILED_PRECONDITION; a cancelled job resumes", {
    timeout: 90_000,
  }, async () => {
    const job = await client.unary<unknown, TrainingJob>("startJob", {
      spec: extractorSpec({ outputDir: "models/long" }, 30),
      requestId: "",
    });
    for await (const e of client.stream<unknown, TrainingJobEvent>("watchJob", { jobId: job.jobId }))
      if (e.progress) break;
    const e = await rejection(client.unary("resumeJob", { jobId: job.jobId, checkpoint: "" }));
    assert.equal(status[e.code], "FAILED_PRECONDITION", e.details);
    const c1 = await client.unary<unknown, TrainingJob>("cancelJob", { jobId: job.jobId, reason: "test" });
    assert.ok([JobState.JOB_STATE_CANCELLING, JobState.JOB_STATE_CANCELLED].includes(c1.status!.state));
    await client.unary<unknown, TrainingJob>("cancelJob", { jobId: job.jobId, reason: "again" });
    const events = await watchAll(client, job.jobId);
    assert.equal(events.at(-1)!.stateChanged?.current, JobState.JOB_STATE_CANCELLED);
    const c2 = await client.unary<unknown, TrainingJob>("cancelJob", { jobId: job.jobId, reason: "after" });
    assert.equal(c2.status!.state, JobState.JOB_STATE_CANCELLED, "cancelling a cancelled job answers it unchanged");
    const listed = await client.unary<unknown, { jobs: TrainingJob[] }>("listJobs", {
      pageSize: 0,
      pageToken: "",
      states: [JobState.JOB_STATE_CANCELLED],
      labelSelector: {},
    });
    assert.ok(listed.jobs.some((j) => j.jobId === job.jobId));
    const resumed = await client.unary<unknown, TrainingJob>("resumeJob", { jobId: job.jobId, checkpoint: "" });
    assert.equal(resumed.status!.attempt, 2);
    await client.unary("cancelJob", { jobId: job.jobId, reason: "done" });
  });

  test("unknown job ids are NOT_FOUND on every RPC", async () => {
    for (const [method, req] of [
      ["getJob", { jobId: "nope" }],
      ["cancelJob", { jobId: "nope", reason: "" }],
      ["resumeJob", { jobId: "nope", checkpoint: "" }],
    ] as const) {
      const e = await rejection(client.unary(method, req));
      assert.equal(status[e.code], "NOT_FOUND", `${method}: ${e.details}`);
    }
    const e = await rejection(watchAll(client, "nope"));
    assert.equal(status[e.code], "NOT_FOUND", e.details);
  });

  test("configuration values out of range or unsupported are INVALID_ARGUMENT naming the proto field", async () => {
    const withConfig = (config: object) => {
      const s = extractorSpec({ outputDir: "models/bad" });
      Object.assign(s.extractor!.config!, config);
      return s;
    };
    const p = "spec.extractor.config";
    await expectInvalid(client, withConfig({ optimizer: { lr: 5 } }), `${p}.optimizer.lr`);
    await expectInvalid(
      client,
      withConfig({ vit: { ...TINY_VIT, numHeads: 3, pretrainedWeights: "" } }),
      `${p}.vit.num_heads`,
    );
    await expectInvalid(
      client,
      withConfig({ vit: { ...TINY_VIT, dropPathRate: 0.1, pretrainedWeights: "" } }),
      `${p}.vit.drop_path_rate`,
    );
    await expectInvalid(client, withConfig({ crop: { cropSize: 36, fill: 0 } }), `${p}.crop.crop_size`);
    await expectInvalid(
      client,
      withConfig({ crop: { cropSize: 32, trainingMarginMin: 0.2, fill: 0 } }),
      `${p}.crop.training_margin_min`,
    );
    await expectInvalid(client, withConfig({ crop: { cropSize: 32, fill: 2 } }), `${p}.crop.fill`);
    await expectInvalid(client, withConfig({ schedule: { epochs: 0 } }), `${p}.schedule.epochs`);
    await expectInvalid(
      client,
      withConfig({ schedule: { epochs: 1, warmupEpochs: 3 } }),
      `${p}.schedule.warmup_epochs`,
    );
    await expectInvalid(client, withConfig({ optimizer: { gradClipNorm: 1 } }), `${p}.optimizer.grad_clip_norm`);
    await expectInvalid(client, withConfig({ augmentation: { jitterHue: 0.1 } }), `${p}.augmentation.jitter_hue`);
    await expectInvalid(client, withConfig({ loss: { lambdaCrf: 1 } }), `${p}.loss.lambda_crf`);
    await expectInvalid(client, withConfig({ execution: { provider: 0, seed: 2 ** 40 } }), `${p}.execution.seed`);
    const g = generatorSpec("models/bad-g");
    Object.assign(g.generator!.config!, { pointDropout: { foreground: 0.5, background: 0.3 } });
    await expectInvalid(client, g, "spec.generator.config.point_dropout.background");
    const g2 = generatorSpec("models/bad-g");
    Object.assign(g2.generator!.config!, { retrieval: { alpha: 0, scoreScale: 0 } });
    await expectInvalid(client, g2, "spec.generator.config.retrieval.alpha");
    const g3 = generatorSpec("models/bad-g");
    Object.assign(g3.generator!.config!, { emaMomentum: 1 });
    await expectInvalid(client, g3, "spec.generator.config.ema_momentum");
    await expectInvalid(client, { outputDir: "models/x" }, "spec.kind");
  });

  test("every path field escaping the data directory (absolute, .., symlink) is INVALID_ARGUMENT naming it", async () => {
    const escapes = ["/etc", "../outside", "escape/annotations.json"];
    const cases: Array<[string, (bad: string) => Partial<TrainingJobSpec>]> = [
      [
        "spec.extractor.dataset.annotations",
        (bad) => {
          const s = extractorSpec({ outputDir: "models/p" });
          s.extractor!.dataset!.annotations = bad;
          return s;
        },
      ],
      [
        "spec.extractor.dataset.images_dir",
        (bad) => {
          const s = extractorSpec({ outputDir: "models/p" });
          s.extractor!.dataset!.imagesDir = bad.replace("/annotations.json", "/images");
          return s;
        },
      ],
      ["spec.output_dir", (bad) => extractorSpec({ outputDir: bad.replace("/annotations.json", "/out") })],
      [
        "spec.extractor.config.vit.pretrained_weights",
        (bad) => {
          const s = extractorSpec({ outputDir: "models/p" });
          s.extractor!.config!.vit!.pretrainedWeights = bad;
          return s;
        },
      ],
      [
        "spec.generator.extractor_model",
        (bad) => {
          const s = generatorSpec("models/p");
          s.generator!.extractorModel = bad.replace("/annotations.json", "");
          return s;
        },
      ],
      [
        "spec.generator.validation.annotations",
        (bad) => {
          const s = generatorSpec("models/p", 1, true);
          s.generator!.validation!.annotations = bad;
          return s;
        },
      ],
      [
        "spec.retrieval_sweep.validation.annotations",
        (bad) =>
          ({
            outputDir: "sweeps/p",
            retrievalSweep: {
              extractorModel: "models/extractor",
              validation: { annotations: bad, imagesDir: "", categoryIds: [], maxAnnotations: 0 },
            },
          }) as Partial<TrainingJobSpec>,
      ],
    ];
    for (const [field, make] of cases) for (const bad of escapes) await expectInvalid(client, make(bad), field);
    // file_name inside the annotations file.
    const coco = JSON.parse(await readFile(join(dir, DATASET.annotations), "utf8"));
    coco.images[0].file_name = "../../../escape/images/000001.png";
    await mkdir(join(dir, "datasets/evil"), { recursive: true });
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(join(dir, "datasets/evil/a.json"), JSON.stringify(coco)),
    );
    const s = extractorSpec({ outputDir: "models/p" });
    s.extractor!.dataset = {
      annotations: "datasets/evil/a.json",
      imagesDir: "datasets/syn/images",
      categoryIds: [],
      maxAnnotations: 0,
    };
    await expectInvalid(client, s, "file_name");
    // ResumeJob's checkpoint.
    for (const bad of escapes) {
      const e = await rejection(client.unary("resumeJob", { jobId: generatorJobId, checkpoint: bad }));
      assert.equal(status[e.code], "INVALID_ARGUMENT", e.details);
      assert.ok(e.details.includes("checkpoint"), e.details);
    }
    // Missing files are NOT_FOUND.
    const missing = extractorSpec({ outputDir: "models/p" });
    missing.extractor!.dataset!.annotations = "datasets/none.json";
    await expectInvalid(client, missing, "spec.extractor.dataset.annotations", "NOT_FOUND");
  });

  test("`exits serve trainer` killed with SIGKILL mid-job, restarted: the job is listed, resumed from its checkpoint (attempt 2) to SUCCEEDED, with the uninterrupted run's loss log", {
    timeout: 120_000,
  }, async () => {
    assert.ok(generatorJobId, "the generator test ran");
    const data = await mkdtemp(join(tmpdir(), "exits-trainer-cli-"));
    await cp(join(dir, "datasets"), join(data, "datasets"), { recursive: true });
    await cp(join(dir, "models/extractor"), join(data, "models/extractor"), { recursive: true });
    // The in-process run's extractor was swept after the generator? No: the sweep ran before it, so
    // this copy holds the same manifest the uninterrupted generator used.
    const straight = await lossLog(dir, generatorJobId);
    const cli = ["--conditions=source", "--import", "./tools/register.mjs", "libs/cli/src/main.ts", "serve", "trainer"];
    const startCli = async (): Promise<{ child: ChildProcess; client: ContractClient }> => {
      const child = spawn(process.execPath, cli, {
        cwd: repoRoot,
        env: { ...process.env, ...env(data), EXITS_LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      const port = await new Promise<number>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
        child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const started = out.split("\n").find((line) => line.includes('"msg":"service started"'));
          if (started) resolve(JSON.parse(started).grpcPort);
        });
      });
      return { child, client: new ContractClient("trainer", `127.0.0.1:${port}`) };
    };
    let a = await startCli();
    try {
      const job = await a.client.unary<unknown, TrainingJob>("startJob", {
        spec: generatorSpec("models/generator", 2, true),
        requestId: "",
      });
      let killedAfter = 0;
      for await (const e of a.client.stream<unknown, TrainingJobEvent>("watchJob", { jobId: job.jobId })) {
        if (e.checkpointSaved) {
          killedAfter = e.checkpointSaved.step;
          a.child.kill("SIGKILL");
          break;
        }
      }
      assert.ok(
        killedAfter > 0 && killedAfter < straight.length,
        `killed after checkpoint ${killedAfter} of ${straight.length} steps`,
      );
      await new Promise((r) => a.child.once("exit", r));
      a.client.close();
      a = await startCli();
      const listed = await a.client.unary<unknown, { jobs: TrainingJob[] }>("listJobs", {
        pageSize: 0,
        pageToken: "",
        states: [],
        labelSelector: {},
      });
      assert.ok(
        listed.jobs.some((j) => j.jobId === job.jobId),
        "listed after the restart",
      );
      const events = await watchAll(a.client, job.jobId);
      assert.ok(
        events.some((e) => e.stateChanged?.current === JobState.JOB_STATE_INTERRUPTED),
        "marked INTERRUPTED",
      );
      assert.equal(events.at(-1)!.stateChanged?.current, JobState.JOB_STATE_SUCCEEDED, JSON.stringify(events.at(-1)));
      const done = await a.client.unary<unknown, TrainingJob>("getJob", { jobId: job.jobId });
      assert.equal(done.status!.attempt, 2);
      // The resumed attempt reported steps after the checkpoint only.
      const afterRestart = events.slice(
        events.findIndex((e) => e.stateChanged?.current === JobState.JOB_STATE_INTERRUPTED),
      );
      const resumedSteps = afterRestart.filter((e) => e.progress).map((e) => e.progress!.step);
      assert.equal(resumedSteps[0], killedAfter + 1, "resumed from the checkpoint");
      // Same seed, same config: the loss log equals the uninterrupted in-process run's.
      assert.deepEqual(await lossLog(data, job.jobId), straight);
    } finally {
      a.child.kill("SIGKILL");
      a.client.close();
      await rm(data, { recursive: true, force: true });
    }
  });
});
