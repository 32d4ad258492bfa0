import type { JsonLogger } from "@exits/base";
import { EnvReader, type ServiceConfig, type ServiceMetrics, type ServiceReadiness } from "@exits/platform";
import {
  ContractClient,
  DataPaths,
  GraphMetrics,
  ModelRegistry,
  RetrievalEngine,
  SimilarityEngine,
} from "@exits/serving";

/**
 * What one RetrievalService process holds: the extractor registry (defaults, image items) and
 * the engine. T for image items comes from SimilarityService at EXITS_SIMILARITY_ADDRESS, or,
 * unset, from the same SimilarityEngine the similarity service runs, in process.
 */
export class RetrievalRuntime {
  readonly registry: ModelRegistry;
  readonly engine: RetrievalEngine;
  private readonly client?: ContractClient;

  constructor(config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics, readiness: ServiceReadiness) {
    const read = new EnvReader(config.env);
    const paths = new DataPaths(config.dataDir);
    const graphMetrics = new GraphMetrics(metrics.registry);
    const runtime = { executionProvider: config.executionProvider, intraOpNumThreads: config.intraOpThreads };
    const maxBatch = read.integer("EXITS_SIMILARITY_MAX_BATCH", 8, { min: 1, max: 256 });
    const maxObjects = read.integer("EXITS_MAX_OBJECTS_PER_REQUEST", 1024, { min: 1, max: 1_000_000 });
    this.registry = new ModelRegistry({
      paths,
      kind: "extractor",
      defaultModel: read.string("EXITS_DEFAULT_EXTRACTOR", "models/extractor"),
      logger,
      onLoad: (seconds) => graphMetrics.modelLoadSeconds.observe(seconds),
      onServableChange: (servable) => readiness.set(servable),
    });
    readiness.set(this.registry.isServable());
    const address = read.string("EXITS_SIMILARITY_ADDRESS", "");
    if (address !== "")
      this.client = new ContractClient("similarity", address, { maxMessageBytes: config.maxMessageBytes });
    const points = GraphMetrics.counter(
      metrics.registry,
      "exits_retrieval_points_total",
      "Patches put in each point set by RetrievalService (seed_foreground, seed_background, pseudo_foreground, pseudo_background)",
      ["set"],
    );
    this.engine = new RetrievalEngine({
      paths,
      extractors: this.registry,
      similarity: this.client
        ? { remote: this.client }
        : {
            local: new SimilarityEngine({
              paths,
              runtime,
              maxBatch,
              maxObjects,
              maxMessageBytes: config.maxMessageBytes,
              metrics: graphMetrics,
              logger,
            }),
          },
      runtime,
      maxBatch,
      maxObjects,
      metrics: graphMetrics,
      onPoints: (set, n) => points.inc({ set }, n),
      logger,
    });
  }

  start(): void {
    this.registry.start();
  }

  async close(): Promise<void> {
    this.client?.close();
    await this.engine.close();
    await this.registry.close();
  }
}
