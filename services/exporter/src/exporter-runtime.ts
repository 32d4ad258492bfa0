import type { JsonLogger } from "@exits/base";
import { FillMode } from "@exits/contracts";
import { EnvReader, type ServiceConfig, type ServiceMetrics } from "@exits/platform";
import {
  ContractClient,
  crfConfigToWire,
  DataPaths,
  ExportJobs,
  ModelRegistry,
  remoteMaskPredictor,
} from "@exits/serving";
import { exporterShardRunners } from "./exporter-shards.js";

/**
 * What ExporterService runs on: the generator registry, the export jobs (persisted under
 * `<data dir>/jobs/exporter`), and, when EXITS_MASK_ADDRESS is set, a MaskService client the
 * jobs get their masks from instead of the in-process generator; shards run where
 * `exporterShardRunners` says (exporter-shards.ts lists the variables).
 */
export class ExporterRuntime {
  readonly jobs: ExportJobs;
  readonly paths: DataPaths;
  private readonly generators: ModelRegistry;
  private readonly maskClient?: ContractClient;

  constructor(config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) {
    const read = new EnvReader(config.env);
    this.paths = new DataPaths(config.dataDir);
    this.generators = new ModelRegistry({
      paths: this.paths,
      kind: "generator",
      defaultModel: read.string("EXITS_DEFAULT_GENERATOR", "models/generator"),
      logger,
      pollMs: 0,
    });
    const maskAddress = read.string("EXITS_MASK_ADDRESS", "");
    if (maskAddress !== "")
      this.maskClient = new ContractClient("mask", maskAddress, { maxMessageBytes: config.maxMessageBytes });
    const client = this.maskClient;
    this.jobs = new ExportJobs({
      dataDir: config.dataDir,
      paths: this.paths,
      generators: this.generators,
      serviceProvider: config.executionProvider,
      intraOpThreads: config.intraOpThreads,
      logger,
      registry: metrics.registry,
      // Images per chunk, the unit of work a resume keeps.
      chunkImages: read.integer("EXITS_EXPORT_CHUNK_IMAGES", 32, { min: 1, max: 100_000 }),
      // In process, child processes (EXITS_EXPORT_SHARD_RUNNER) or an Indexed Job per export.
      shardRunners: exporterShardRunners(config),
      // The MaskService reads images by path from the same data directory (a shared volume).
      remoteMasks: client
        ? (lease, c, crfRefine) =>
            remoteMaskPredictor(client, {
              dataDir: config.dataDir,
              batch: c.export.batch,
              model: lease.clientPath,
              config: {
                crop: { inferenceMargin: c.crop.inferenceMargin, fill: FillMode.FILL_MODE_MIRROR },
                pasteThreshold: c.export.threshold,
                crfRefine,
                crf: crfConfigToWire(c.crf),
              },
            })
        : undefined,
    });
  }

  /** Loads the persisted jobs and resumes those a restart interrupted. */
  start(): Promise<void> {
    return this.jobs.recover();
  }

  async close(): Promise<void> {
    await this.jobs.close();
    await this.generators.close();
    this.maskClient?.close();
  }
}
