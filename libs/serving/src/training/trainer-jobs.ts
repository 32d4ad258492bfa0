import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@exits/base";
import {
  type ListJobsRequest,
  type ListTrainingJobsResponse,
  type ResumeTrainingJobRequest,
  type StartTrainingJobRequest,
  type TrainingJob,
  type TrainingJobEvent,
  TrainingJobSpec,
} from "@exits/contracts";
import { InvalidArgumentError } from "@exits/platform";
import { Counter, Histogram, type Registry } from "prom-client";
import { present } from "../config/index.js";
import { JobManager } from "../jobs/job-manager.js";
import type { JobEvent } from "../jobs/job-types.js";
import { jobEventEnvelopeToWire, jobStatusToWire, listQueryFromWire } from "../jobs/job-wire.js";
import type { DataPaths } from "../paths/data-paths.js";
import type { ServiceExecutionDefaults } from "./training-config.js";
import {
  keepCheckpointsUpTo,
  type TrainingEvent,
  type TrainingExtras,
  type TrainingJobDeps,
  type TrainingJobSnapshot,
  trainDirOf,
  trainingJobRunner,
} from "./training-jobs.js";
import { type ResolvedTrainingJob, resolveTrainingSpec } from "./training-spec.js";

export interface TrainerJobsOptions {
  paths: DataPaths;
  logger: Logger;
  registry?: Registry;
  execution: ServiceExecutionDefaults;
  pointRetriever?: TrainingJobDeps["pointRetriever"];
  /** Jobs run at once; default 1 (training takes every core it is given). */
  concurrency?: number;
}

/** What ResumeJob asked for: continue from this step, on this attempt only (not on later auto-resumes). */
interface ResumeFrom {
  step: number;
  attempt: number;
}

/**
 * TrainerService's logic over the persisted job framework: validation before queuing, the run
 * functions, wire conversion (paths relative to the data directory), and the training metrics
 * (exits_training_steps_total, exits_training_step_seconds).
 */
export class TrainerJobs {
  readonly manager: JobManager<unknown, ResolvedTrainingJob, TrainingExtras, TrainingEvent>;
  private readonly paths: DataPaths;

  constructor(private readonly options: TrainerJobsOptions) {
    this.paths = options.paths;
    const steps =
      options.registry &&
      metric(
        options.registry,
        "exits_training_steps_total",
        () =>
          new Counter({
            name: "exits_training_steps_total",
            help: "Optimiser steps run by training jobs",
            registers: [options.registry!],
          }),
      );
    const stepSeconds =
      options.registry &&
      metric(
        options.registry,
        "exits_training_step_seconds",
        () =>
          new Histogram({
            name: "exits_training_step_seconds",
            help: "Wall time of one training step (batch assembly and the step graph)",
            buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
            registers: [options.registry!],
          }),
      );
    const run = trainingJobRunner({
      paths: this.paths,
      logger: options.logger,
      meters: {
        onStep: (s) => {
          (steps as Counter | undefined)?.inc();
          (stepSeconds as Histogram | undefined)?.observe(s);
        },
      },
      ...(options.pointRetriever ? { pointRetriever: options.pointRetriever } : {}),
    });
    this.manager = new JobManager({
      dir: join(this.paths.root, "jobs", "trainer"),
      kind: "trainer",
      logger: options.logger,
      concurrency: options.concurrency ?? 1,
      ...(options.registry ? { registry: options.registry } : {}),
      run: async (job, ctx) => {
        const from = ctx.resumeArgument as ResumeFrom | undefined;
        if (from && from.attempt === ctx.attempt) await keepCheckpointsUpTo(trainDirOf(ctx.jobDir), from.step);
        return run(job, ctx);
      },
    });
  }

  recover(): Promise<void> {
    return this.manager.recover();
  }

  close(): Promise<void> {
    return this.manager.close();
  }

  async start(request: StartTrainingJobRequest): Promise<TrainingJob> {
    const spec = present(request.spec);
    if (!spec) throw new InvalidArgumentError("spec", "is required");
    const specJson = TrainingJobSpec.toJSON(TrainingJobSpec.fromPartial(spec as TrainingJobSpec));
    const job = await this.manager.start(specJson, {
      requestId: request.requestId ?? "",
      labels: spec.labels ?? {},
      prepare: async (id) => {
        const resolved = await resolveTrainingSpec(this.paths, spec, id, this.options.execution, (s) =>
          TrainingJobSpec.toJSON(TrainingJobSpec.fromPartial(s)),
        );
        const out = this.paths.resolve("spec.output_dir", resolved.outputDir);
        const claims = [{ field: "spec.output_dir", path: out, clientPath: resolved.outputDir }];
        // A sweep rewrites its extractor's manifest: two sweeps of one extractor must not race.
        if (resolved.kind === "retrieval_sweep" && resolved.extractorModel)
          claims.push({
            field: "spec.retrieval_sweep.extractor_model",
            path: join(
              this.paths.resolve("spec.retrieval_sweep.extractor_model", resolved.extractorModel),
              "manifest.json",
            ),
            clientPath: resolved.extractorModel,
          });
        return { resolvedSpec: resolved, extras: {}, claims };
      },
    });
    return this.toWire(job);
  }

  get(id: string): TrainingJob {
    return this.toWire(this.manager.get(id));
  }

  async cancel(id: string, reason: string): Promise<TrainingJob> {
    return this.toWire(await this.manager.cancel(id, reason));
  }

  list(request: ListJobsRequest): ListTrainingJobsResponse {
    const page = this.manager.list(listQueryFromWire(request));
    return { jobs: page.jobs.map((j) => this.toWire(j)), nextPageToken: page.nextPageToken };
  }

  async resume(request: ResumeTrainingJobRequest): Promise<TrainingJob> {
    const job = this.manager.get(request.jobId);
    let argument: ResumeFrom | undefined;
    if ((request.checkpoint ?? "") !== "") {
      const abs = this.paths.resolve("checkpoint", request.checkpoint);
      const checkpoints = join(trainDirOf(join(this.manager.dir, job.id)), "checkpoints");
      const m = /^step-(\d+)$/.exec(abs.slice(checkpoints.length + 1));
      if (!abs.startsWith(`${checkpoints}/`) || !m)
        throw new InvalidArgumentError("checkpoint", `"${request.checkpoint}" is not a checkpoint of job ${job.id}`);
      if (!existsSync(abs))
        throw new InvalidArgumentError("checkpoint", `"${request.checkpoint}" does not exist (kept: the latest two)`);
      argument = { step: Number(m[1]), attempt: job.status.attempt + 1 };
    }
    const resumed = await this.manager.resume(request.jobId, {
      ...(argument ? { argument } : {}),
      reason: argument ? `resumed from step ${argument.step}` : "resumed from the latest checkpoint",
    });
    return this.toWire(resumed);
  }

  /** Events as TrainingJobEvent; NOT_FOUND is thrown here (before iteration). */
  watch(id: string, afterSequence: number, signal: AbortSignal): AsyncIterable<TrainingJobEvent> {
    const events = this.manager.watch(id, afterSequence, signal);
    return {
      async *[Symbol.asyncIterator]() {
        for await (const e of events) yield eventToWire(e);
      },
    };
  }

  toWire(job: TrainingJobSnapshot): TrainingJob {
    return {
      jobId: job.id,
      spec: TrainingJobSpec.fromJSON(job.spec),
      resolvedSpec: TrainingJobSpec.fromJSON(job.resolvedSpec.wire),
      status: jobStatusToWire(job.status),
      ...(job.extras.metrics ? { metrics: job.extras.metrics } : {}),
      ...(job.extras.artifacts ? { artifacts: job.extras.artifacts } : {}),
      ...(job.extras.lastEvaluation ? { lastEvaluation: job.extras.lastEvaluation } : {}),
    };
  }
}

function eventToWire(e: JobEvent<TrainingEvent>): TrainingJobEvent {
  const { custom, ...envelope } = jobEventEnvelopeToWire(e);
  return { ...envelope, ...(custom ?? {}) } as TrainingJobEvent;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
