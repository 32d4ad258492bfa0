import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionProviderChoice, Logger } from "@exits/base";
import {
  type CancelJobRequest,
  type ExportJobEvent,
  ExportJobSpec,
  type GetJobRequest,
  type ListExportJobsResponse,
  type ListJobsRequest,
  type ListSkippedRequest,
  type ListSkippedResponse,
  type ResumeExportJobRequest,
  type StartExportJobRequest,
  type WatchJobRequest,
  type ExportJob as WireExportJob,
} from "@exits/contracts";
import { InvalidArgumentError } from "@exits/platform";
import { Registry } from "prom-client";
import { JobManager } from "../jobs/job-manager.js";
import { listQueryFromWire } from "../jobs/job-wire.js";
import type { ModelRegistry } from "../models/model-registry.js";
import type { DataPaths } from "../paths/data-paths.js";
import { exportRunFunction, specContext } from "./export-job.js";
import { exportMetrics } from "./export-metrics.js";
import { readPlanSkips } from "./export-plan.js";
import type { ExportPredictorDeps } from "./export-predictor.js";
import { SHARDS_DIR } from "./export-shard.js";
import type { ExportShardRunners } from "./export-shard-runs.js";
import { resolveExportSpec } from "./export-spec.js";
import { EMPTY_COUNTS, type ExportEvent, type ExportExtras, type SkipRecord } from "./export-types.js";
import { exportEventToWire, exportJobToWire, skippedToWire, skipReasonFromWire } from "./export-wire.js";

export interface ExportJobsOptions {
  readonly dataDir: string;
  readonly paths: DataPaths;
  readonly generators: ModelRegistry;
  readonly serviceProvider: ExecutionProviderChoice;
  readonly intraOpThreads: number;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly remoteMasks?: ExportPredictorDeps["remoteMasks"];
  readonly chunkImages?: number;
  /** Child-process and Kubernetes shard runners (ExportRunDeps.shardRunners); unset = in process only. */
  readonly shardRunners?: ExportShardRunners;
  /** Export jobs run at once; default 1. */
  readonly concurrency?: number;
}

const DEFAULT_SKIPPED_PAGE = 100;
const MAX_SKIPPED_PAGE = 1000;

/** Drops the nulls proto-loader puts for unset message fields, so the spec is a clean ts-proto value. */
function clean<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === null ? undefined : v))) as T;
}

/**
 * ExporterService's logic over the job framework, in wire types: the controller only forwards.
 * Jobs live in `<data dir>/jobs/exporter/<id>/`.
 */
export class ExportJobs {
  readonly manager: JobManager<ExportJobSpec, ExportJobSpec, ExportExtras, ExportEvent>;
  private readonly paths: DataPaths;

  constructor(private readonly o: ExportJobsOptions) {
    this.paths = o.paths;
    this.manager = new JobManager({
      dir: join(o.dataDir, "jobs", "exporter"),
      kind: "exporter",
      logger: o.logger,
      registry: o.registry,
      concurrency: o.concurrency ?? 1,
      run: exportRunFunction({
        paths: o.paths,
        generators: o.generators,
        serviceProvider: o.serviceProvider,
        intraOpThreads: o.intraOpThreads,
        logger: o.logger,
        metrics: exportMetrics(o.registry ?? new Registry()),
        remoteMasks: o.remoteMasks,
        chunkImages: o.chunkImages,
        shardRunners: o.shardRunners,
      }),
    });
  }

  /** Loads the jobs on disk and resumes the interrupted ones. */
  recover(): Promise<void> {
    return this.manager.recover();
  }

  close(): Promise<void> {
    return this.manager.close();
  }

  async start(request: StartExportJobRequest): Promise<WireExportJob> {
    const req = clean(request);
    if (!req.spec) throw new InvalidArgumentError("spec", "is missing");
    const spec = ExportJobSpec.fromPartial(req.spec);
    const job = await this.manager.start(spec, {
      requestId: req.requestId ?? "",
      labels: spec.labels,
      prepare: async () => {
        const resolved = await resolveExportSpec(spec, specContext(this.o));
        return {
          resolvedSpec: resolved.spec,
          extras: { shards: [], report: EMPTY_COUNTS, manifestPath: "" },
          claims: resolved.claims,
        };
      },
    });
    return exportJobToWire(job, this.paths);
  }

  get(request: GetJobRequest): WireExportJob {
    return exportJobToWire(this.manager.get(request.jobId), this.paths);
  }

  async cancel(request: CancelJobRequest): Promise<WireExportJob> {
    return exportJobToWire(await this.manager.cancel(request.jobId, request.reason ?? ""), this.paths);
  }

  list(request: ListJobsRequest): ListExportJobsResponse {
    const page = this.manager.list(listQueryFromWire(clean(request)));
    return { jobs: page.jobs.map((j) => exportJobToWire(j, this.paths)), nextPageToken: page.nextPageToken };
  }

  async resume(request: ResumeExportJobRequest): Promise<WireExportJob> {
    return exportJobToWire(await this.manager.resume(request.jobId), this.paths);
  }

  /** NOT_FOUND is thrown here, before any event, so it maps like a unary error. */
  watch(request: WatchJobRequest, signal?: AbortSignal): AsyncIterable<ExportJobEvent> {
    const events = this.manager.watch(request.jobId, request.afterSequence ?? 0, signal);
    const paths = this.paths;
    return (async function* () {
      for await (const event of events) yield exportEventToWire(event, paths);
    })();
  }

  /** The job's skipped annotations, by annotation id, filtered by reason, paged (page_size 0 → 100, clamped to 1000). */
  async listSkipped(request: ListSkippedRequest): Promise<ListSkippedResponse> {
    const req = clean(request);
    const job = this.manager.get(req.jobId);
    const size = Math.min(MAX_SKIPPED_PAGE, req.pageSize ? req.pageSize : DEFAULT_SKIPPED_PAGE);
    const after = req.pageToken ? decodeSkipToken(req.pageToken) : undefined;
    const reasons = new Set((req.reasons ?? []).map(skipReasonFromWire).filter((r) => r !== undefined));
    const jobDir = join(this.manager.dir, job.id);
    const shardIndex = job.resolvedSpec.sharding?.shardIndex;
    const records = [
      ...(await readPlanSkips(jobDir)).filter((r) => shardIndex === undefined || r.shardIndex === shardIndex),
      ...(await shardSkips(jobDir)),
    ]
      .filter((r) => reasons.size === 0 || reasons.has(r.reason))
      .filter((r) => !after || r.annotationId > after.id || (r.annotationId === after.id && r.key > after.key))
      .sort((a, b) => a.annotationId - b.annotationId || a.key - b.key);
    const page = records.slice(0, size);
    const last = page[page.length - 1];
    return {
      skipped: page.map(skippedToWire),
      nextPageToken: records.length > size && last ? encodeSkipToken(last) : "",
    };
  }
}

/** Skips found while decoding images, from the finished chunks of every shard. */
async function shardSkips(jobDir: string): Promise<SkipRecord[]> {
  const root = join(jobDir, SHARDS_DIR);
  if (!existsSync(root)) return [];
  const out: SkipRecord[] = [];
  for (const shard of await readdir(root)) {
    for (const file of await readdir(join(root, shard))) {
      if (!file.endsWith(".stats.json")) continue;
      const stats = JSON.parse(await readFile(join(root, shard, file), "utf8")) as { skipped: SkipRecord[] };
      out.push(...stats.skipped);
    }
  }
  return out;
}

function encodeSkipToken(r: SkipRecord): string {
  return Buffer.from(`skip:${r.annotationId}:${r.key}`, "utf8").toString("base64url");
}

function decodeSkipToken(token: string): { id: number; key: number } {
  const m = /^skip:(-?\d+):(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw new InvalidArgumentError("page_token", "is not a token from a previous ListSkipped response");
  return { id: Number(m[1]), key: Number(m[2]) };
}
