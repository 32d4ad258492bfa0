import type { JsonLogger } from "@exits/base";
import { EnvReader, type ServiceConfig, type ServiceMetrics, type ServiceReadiness } from "@exits/platform";
import { DataPaths, GraphMetrics, ModelRegistry, SimilarityEngine, SimilarityRpc } from "@exits/serving";

/** What one SimilarityService process holds: the extractor registry and the engine over it. */
export class SimilarityRuntime {
  readonly registry: ModelRegistry;
  readonly rpc: SimilarityRpc;

  constructor(config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics, readiness: ServiceReadiness) {
    const read = new EnvReader(config.env);
    const paths = new DataPaths(config.dataDir);
    const graphMetrics = new GraphMetrics(metrics.registry);
    this.registry = new ModelRegistry({
      paths,
      kind: "extractor",
      defaultModel: read.string("EXITS_DEFAULT_EXTRACTOR", "models/extractor"),
      logger,
      onLoad: (seconds) => graphMetrics.modelLoadSeconds.observe(seconds),
      onServableChange: (servable) => readiness.set(servable),
    });
    readiness.set(this.registry.isServable());
    const engine = new SimilarityEngine({
      paths,
      runtime: { executionProvider: config.executionProvider, intraOpNumThreads: config.intraOpThreads },
      maxBatch: read.integer("EXITS_SIMILARITY_MAX_BATCH", 8, { min: 1, max: 256 }),
      maxObjects: read.integer("EXITS_MAX_OBJECTS_PER_REQUEST", 1024, { min: 1, max: 1_000_000 }),
      maxMessageBytes: config.maxMessageBytes,
      metrics: graphMetrics,
      logger,
    });
    const objects = GraphMetrics.counter(
      metrics.registry,
      "exits_similarity_objects_total",
      "Objects (or crops) answered by SimilarityService, by outcome (computed, skipped)",
      ["outcome"],
    );
    this.rpc = new SimilarityRpc(engine, this.registry, objects);
  }

  start(): void {
    this.registry.start();
  }

  async close(): Promise<void> {
    await this.registry.close();
  }
}
