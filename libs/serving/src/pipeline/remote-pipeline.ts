import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { Logger } from "@exits/base";
import {
  type ExportJob,
  type ExportJobEvent,
  JobState,
  type TrainingJob,
  type TrainingJobEvent,
  type TrainingJobSpec,
} from "@exits/contracts";
import type { MethodConfig, ProgressListener } from "@exits/exits";
import { ContractClient } from "../clients/contract-client.js";
import { cropConfigToWire } from "../config/crop-config.js";
import { extractorConfigToWire, generatorConfigToWire } from "../training/training-config.js";
import type { JobExecution } from "../training/training-defaults.js";

/** Where the pipeline's two job services listen ("host:port"). */
export interface RemotePipelineAddresses {
  trainer: string;
  exporter: string;
}

export interface RemotePipelineOptions {
  addresses: RemotePipelineAddresses;
  /** The COCO file and its images, as paths inside the services' data directory. */
  annotations: string;
  images: string;
  config: MethodConfig;
  /** A directory inside the data directory: models/extractor, models/generator, export/ go below. */
  outDir: string;
  execution: JobExecution;
  logger?: Logger;
  onProgress?: ProgressListener;
  onStage?: (stage: string, detail: string) => void;
  signal?: AbortSignal;
  maxMessageBytes?: number;
}

/** What the remote run produced, as data-directory paths, and the jobs that produced it. */
export interface RemotePipelineResult {
  extractor: string;
  generator: string;
  export: string;
  jobs: { extractor: string; generator: string; export: string };
}

const TERMINAL = new Set([JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED]);
const RESUMABLE = new Set([JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELLED, JobState.JOB_STATE_INTERRUPTED]);

/**
 * The method's pipeline through the services (`exits pipeline --remote`): a trainer job trains
 * the extractor; a second trains the generator, whose points the trainer gets from the
 * RetrievalService (which gets T from the SimilarityService); an exporter job writes the COCO
 * export through the MaskService (CrfService where refinement is asked for). The same
 * MethodConfig as the embedded `runPipeline`, sent as resolved wire configs, so the same seed
 * trains the same models. Every job is started with a request_id derived from the run, so a
 * rerun after a client crash re-attaches to its jobs (and resumes a failed or interrupted one)
 * instead of starting them again.
 */
export async function runRemotePipeline(o: RemotePipelineOptions): Promise<RemotePipelineResult> {
  const c = o.config;
  if (c.generator.supervision !== "points")
    throw new Error('generator.supervision "mil" (the MIL-only ablation) has no wire setting; run it embedded');
  const trainer = new ContractClient("trainer", o.addresses.trainer, { maxMessageBytes: o.maxMessageBytes });
  const exporter = new ContractClient("exporter", o.addresses.exporter, { maxMessageBytes: o.maxMessageBytes });
  const runKey = createHash("sha256")
    .update(JSON.stringify({ annotations: o.annotations, images: o.images, outDir: o.outDir, c }))
    .digest("hex")
    .slice(0, 16);
  const dataset = { annotations: o.annotations, imagesDir: o.images, categoryIds: [], maxAnnotations: 0 };
  const stage = (every: number) => ({ checkpointEverySteps: every, logEverySteps: 1, execution: o.execution });
  try {
    const extractorDir = `${o.outDir}/models/extractor`;
    o.onStage?.("extractor", `similarity extractor on the trainer service (${o.addresses.trainer})`);
    const extractorJob = await runTrainingJob(trainer, `${runKey}-extractor`, "extractor", o, {
      displayName: "exits pipeline: extractor",
      labels: { "exits.pipeline": runKey },
      outputDir: extractorDir,
      extractor: { dataset, config: extractorConfigToWire(c, stage(c.extractor.checkpointEvery)) },
    });

    const generatorDir = `${o.outDir}/models/generator`;
    o.onStage?.("generator", "generator on the trainer service (points from the retrieval service)");
    const generatorConfig = generatorConfigToWire(c, stage(c.generator.checkpointEvery));
    if (!c.generator.usePointDropout) generatorConfig.pointDropout = { foreground: 0, background: 0 };
    if (!c.generator.useCrf) generatorConfig.loss = { ...generatorConfig.loss, lambdaCrf: 0 };
    const generatorJob = await runTrainingJob(trainer, `${runKey}-generator`, "generator", o, {
      displayName: "exits pipeline: generator",
      labels: { "exits.pipeline": runKey },
      outputDir: generatorDir,
      generator: { dataset, extractorModel: extractorDir, config: generatorConfig },
    });

    const output = `${o.outDir}/export/${basename(o.annotations).replace(/\.json$/, "")}.exits.json`;
    o.onStage?.("export", `export on the exporter service (${o.addresses.exporter})`);
    const exportJob = await runExportJob(exporter, `${runKey}-export`, o, {
      displayName: "exits pipeline: export",
      labels: { "exits.pipeline": runKey },
      inputAnnotations: o.annotations,
      imagesDir: o.images,
      outputPath: output,
      overwrite: true,
      generatorModel: generatorDir,
      config: {
        crop: { inferenceMargin: cropConfigToWire(c).inferenceMargin },
        pasteThreshold: c.export.threshold,
        batchSize: c.export.batch,
        crfRefine: false,
        execution: { seed: c.seed, intraOpThreads: o.execution.intraOpThreads },
      },
      invalidPolicy: 0,
      keepSkipped: false,
    });
    return {
      extractor: extractorDir,
      generator: generatorDir,
      export: output,
      jobs: { extractor: extractorJob.jobId, generator: generatorJob.jobId, export: exportJob.jobId },
    };
  } finally {
    trainer.close();
    exporter.close();
  }
}

async function runTrainingJob(
  client: ContractClient,
  requestId: string,
  stage: string,
  o: RemotePipelineOptions,
  spec: Partial<TrainingJobSpec>,
): Promise<TrainingJob> {
  let job = await client.unary<unknown, TrainingJob>("startJob", { spec, requestId }, { signal: o.signal });
  if (RESUMABLE.has(job.status!.state))
    job = await client.unary<unknown, TrainingJob>("resumeJob", { jobId: job.jobId }, { signal: o.signal });
  for await (const event of client.stream<unknown, TrainingJobEvent>(
    "watchJob",
    { jobId: job.jobId, afterSequence: 0 },
    { signal: o.signal },
  )) {
    const status = event.status!;
    if (event.progress) {
      const m = event.progress;
      o.onProgress?.({
        stage,
        done: m.step,
        total: m.totalSteps,
        unit: "steps",
        ...(status.etaMs > 0 ? { etaSeconds: status.etaMs / 1000 } : {}),
        itemsPerSecond: m.objectsPerSecond,
        detail: { epoch: m.epoch, loss: m.loss, lr: m.lr },
      });
    }
    if (TERMINAL.has(status.state)) break;
  }
  return finished(await client.unary<unknown, TrainingJob>("getJob", { jobId: job.jobId }), stage);
}

async function runExportJob(
  client: ContractClient,
  requestId: string,
  o: RemotePipelineOptions,
  spec: Record<string, unknown>,
): Promise<ExportJob> {
  let job = await client.unary<unknown, ExportJob>("startJob", { spec, requestId }, { signal: o.signal });
  if (RESUMABLE.has(job.status!.state))
    job = await client.unary<unknown, ExportJob>("resumeJob", { jobId: job.jobId }, { signal: o.signal });
  let reported = -1;
  for await (const event of client.stream<unknown, ExportJobEvent>(
    "watchJob",
    { jobId: job.jobId, afterSequence: 0 },
    { signal: o.signal },
  )) {
    const status = event.status!;
    // Shard and report events repeat the overall count; one progress line per new count.
    if (status.total > 0 && status.done !== reported) {
      reported = status.done;
      o.onProgress?.({
        stage: "export",
        done: status.done,
        total: status.total,
        unit: "objects",
        ...(status.etaMs > 0 ? { etaSeconds: status.etaMs / 1000 } : {}),
      });
    }
    if (TERMINAL.has(status.state)) break;
  }
  return finished(await client.unary<unknown, ExportJob>("getJob", { jobId: job.jobId }), "export");
}

function finished<J extends { jobId: string; status?: { state: JobState; error?: { code: string; message: string } } }>(
  job: J,
  stage: string,
): J {
  if (job.status?.state !== JobState.JOB_STATE_SUCCEEDED) {
    const why = job.status?.error
      ? `${job.status.error.code}: ${job.status.error.message}`
      : JobState[job.status!.state];
    throw new Error(`${stage} job ${job.jobId} did not succeed (${why})`);
  }
  return job;
}
