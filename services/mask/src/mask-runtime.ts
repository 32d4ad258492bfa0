import type { JsonLogger } from "@exits/base";
import { EnvReader, type ServiceConfig, type ServiceMetrics, type ServiceReadiness } from "@exits/platform";
import {
  ContractClient,
  CrfEngine,
  type CrfRefiner,
  DataPaths,
  inProcessCrfRefiner,
  MaskInference,
  MaskMetrics,
  type ModelLoader,
  ModelRegistry,
  remoteCrfRefiner,
} from "@exits/serving";

/** Test hook: a slow model loader. */
export interface MaskRuntimeHooks {
  loader?: ModelLoader;
}

/**
 * Everything the controller calls, built from the service configuration and EXITS_MASK_*
 * variables: the generator registry (default model EXITS_DEFAULT_GENERATOR), the batcher and
 * the metrics. Lives as long as the Nest application.
 */
export class MaskRuntime {
  readonly registry: ModelRegistry;
  readonly inference: MaskInference;
  readonly metrics: MaskMetrics;
  readonly paths: DataPaths;
  private readonly crfClient?: ContractClient;
  private readonly crfEngine?: CrfEngine;

  constructor(
    readonly config: ServiceConfig,
    logger: JsonLogger,
    serviceMetrics: ServiceMetrics,
    readiness: ServiceReadiness,
    hooks: MaskRuntimeHooks = {},
  ) {
    const read = new EnvReader(config.env);
    this.paths = new DataPaths(config.dataDir);
    this.metrics = new MaskMetrics(serviceMetrics.registry);
    this.registry = new ModelRegistry({
      paths: this.paths,
      kind: "generator",
      defaultModel: read.string("EXITS_DEFAULT_GENERATOR", "models/generator"),
      logger,
      loader: hooks.loader,
      pollMs: read.integer("EXITS_MODEL_POLL_MS", 2000, { min: 0, max: 3_600_000 }),
      onLoad: (seconds) => this.metrics.modelLoad.observe(seconds),
      onServableChange: (servable) => readiness.set(servable),
    });
    // Not ready until the registry has looked: then while the default generator loads.
    readiness.set(this.registry.isServable());
    const crfAddress = read.string("EXITS_CRF_ADDRESS", "");
    let crf: CrfRefiner | undefined;
    if (crfAddress !== "") {
      this.crfClient = new ContractClient("crf", crfAddress, { maxMessageBytes: config.maxMessageBytes });
      crf = remoteCrfRefiner(this.crfClient);
    } else {
      this.crfEngine = new CrfEngine({
        paths: this.paths,
        runtime: { executionProvider: config.executionProvider, intraOpNumThreads: config.intraOpThreads },
        maxBatch: read.integer("EXITS_CRF_MAX_BATCH", 8, { min: 1, max: 256 }),
        maxObjects: read.integer("EXITS_MAX_OBJECTS_PER_REQUEST", 1024, { min: 1, max: 1_000_000 }),
        logger,
      });
      crf = inProcessCrfRefiner(this.crfEngine);
    }
    this.inference = new MaskInference({
      registry: this.registry,
      paths: this.paths,
      metrics: this.metrics,
      runtime: { executionProvider: config.executionProvider, intraOpNumThreads: config.intraOpThreads },
      maxBatchSize: read.integer("EXITS_MASK_MAX_BATCH", 16, { min: 1, max: 1024 }),
      maxQueueDelayMs: read.integer("EXITS_MASK_MAX_QUEUE_DELAY_MS", 5, { min: 0, max: 10_000 }),
      maxQueueSize: read.integer("EXITS_MASK_MAX_QUEUE", 1024, { min: 1, max: 1_000_000 }),
      maxObjectsPerRequest: read.integer("EXITS_MAX_OBJECTS_PER_REQUEST", 1024, { min: 1, max: 1_000_000 }),
      crf,
    });
  }

  start(): void {
    this.registry.start();
  }

  async close(): Promise<void> {
    await this.inference.close();
    await this.registry.close();
    this.crfClient?.close();
    await this.crfEngine?.close();
  }
}
