import type { JsonLogger } from "@exits/base";
import { EnvReader, type ServiceConfig, type ServiceMetrics } from "@exits/platform";
import { CrfEngine, DataPaths, GraphMetrics } from "@exits/serving";

/** What one CrfService process holds: the CRF engine (graphs per map size, kept). */
export class CrfRuntime {
  readonly engine: CrfEngine;

  constructor(config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) {
    const read = new EnvReader(config.env);
    const items = GraphMetrics.counter(
      metrics.registry,
      "exits_crf_items_total",
      "Probability maps refined by CrfService",
      [],
    );
    this.engine = new CrfEngine({
      paths: new DataPaths(config.dataDir),
      runtime: { executionProvider: config.executionProvider, intraOpNumThreads: config.intraOpThreads },
      maxBatch: read.integer("EXITS_CRF_MAX_BATCH", 8, { min: 1, max: 256 }),
      maxObjects: read.integer("EXITS_MAX_OBJECTS_PER_REQUEST", 1024, { min: 1, max: 1_000_000 }),
      metrics: new GraphMetrics(metrics.registry),
      onItems: (n) => items.inc(n),
      logger,
    });
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
