import type { JsonLogger } from "@exits/base";
import { EnvReader, type ServiceConfig, type ServiceMetrics } from "@exits/platform";
import { ContractClient, DataPaths, remotePointRetriever, TrainerJobs, type TrainingJobDeps } from "@exits/serving";

/**
 * The service's one TrainerJobs over EXITS_DATA_DIR. Generator jobs get their pseudo points in
 * process by default, or from RetrievalService when EXITS_RETRIEVAL_ADDRESS is set (it shares the
 * data directory, so the extractor is named by its client path).
 */
export class TrainerRuntime {
  readonly jobs: TrainerJobs;
  private readonly retrievalClient: ContractClient | undefined;

  constructor(config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) {
    const paths = new DataPaths(config.dataDir);
    const address = new EnvReader(config.env).string("EXITS_RETRIEVAL_ADDRESS", "");
    this.retrievalClient = address === "" ? undefined : new ContractClient("retrieval", address);
    const client = this.retrievalClient;
    const pointRetriever: TrainingJobDeps["pointRetriever"] = client
      ? (extractorDir) =>
          remotePointRetriever({ client, dataDir: config.dataDir, extractorModel: paths.toClient(extractorDir) })
      : undefined;
    this.jobs = new TrainerJobs({
      paths,
      logger,
      registry: metrics.registry,
      execution: { provider: config.executionProvider, intraOpThreads: config.intraOpThreads },
      ...(pointRetriever ? { pointRetriever } : {}),
    });
  }

  /** Jobs a SIGKILL left RUNNING become INTERRUPTED and are re-queued from their checkpoints. */
  start(): Promise<void> {
    return this.jobs.recover();
  }

  async close(): Promise<void> {
    await this.jobs.close();
    this.retrievalClient?.close();
  }
}
