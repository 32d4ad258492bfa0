import "reflect-metadata";
import type { DynamicModule, INestMicroservice } from "@nestjs/common";
import { Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { loadServiceConfig, type ServiceConfig } from "../config/service-config.js";
import { ExitsGrpcServer } from "../grpc/exits-grpc-server.js";
import { GrpcStatusFilter } from "../grpc/grpc-status.filter.js";
import { rpcObserver } from "../grpc/rpc-observer.js";
import { JsonLogger } from "../logging/json-logger.js";
import { MetricsHttpServer } from "../metrics/metrics-http-server.js";
import { ServiceMetrics } from "../metrics/service-metrics.js";
import { SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS } from "./platform-tokens.js";
import type { GrpcServiceSpec } from "./service-spec.js";

/** A started service: where it listens and how to stop it. */
export interface RunningService {
  readonly config: ServiceConfig;
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly logger: JsonLogger;
  readonly metrics: ServiceMetrics;
  /** Marks the service (un)healthy in `grpc.health.v1`, e.g. while a model reloads. */
  setServing(serving: boolean): void;
  /**
   * Graceful stop: health goes NOT_SERVING, new calls are refused, calls in flight finish
   * (up to the configured grace period, then they are cancelled), then everything closes.
   */
  shutdown(reason: string): Promise<void>;
}

@Module({})
class PlatformRootModule {}

function rootModule(spec: GrpcServiceSpec, config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) {
  return {
    module: PlatformRootModule,
    global: true,
    imports: [spec.module],
    providers: [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: SERVICE_LOGGER, useValue: logger },
      { provide: SERVICE_METRICS, useValue: metrics },
    ],
    exports: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
  } satisfies DynamicModule;
}

/**
 * Starts one service: validated configuration (a `ConfigError` is thrown before anything
 * binds), the NestJS gRPC server with raised message limits, health, reflection, the per-RPC
 * metrics and status mapping, and `/metrics` over HTTP on its own port.
 */
export async function startGrpcService(
  spec: GrpcServiceSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningService> {
  const config = loadServiceConfig(spec.name, spec.defaultPort, env);
  const logger = new JsonLogger(spec.name, config.logLevel);
  const metrics = new ServiceMetrics(spec.name);
  const transport = new ExitsGrpcServer(
    {
      // An IPv6 literal needs brackets in a gRPC address ("[::]:50051").
      url: `${config.grpcHost.includes(":") ? `[${config.grpcHost}]` : config.grpcHost}:${config.grpcPort}`,
      package: spec.proto.packageName,
      protoPath: spec.proto.files.map((file) => `${spec.proto.root}/${file}`),
      loader: { ...spec.proto.loaderOptions, includeDirs: [spec.proto.root] },
      maxReceiveMessageLength: config.maxMessageBytes,
      maxSendMessageLength: config.maxMessageBytes,
    },
    spec.proto.services,
    [rpcObserver(metrics)],
  );

  const app: INestMicroservice = await NestFactory.createMicroservice(rootModule(spec, config, logger, metrics), {
    strategy: transport,
    logger,
    bufferLogs: false,
  });
  app.useGlobalFilters(new GrpcStatusFilter(logger));
  await app.listen();

  const metricsServer = new MetricsHttpServer(metrics.registry);
  let metricsPort: number;
  try {
    metricsPort = await metricsServer.listen(config.grpcHost, config.metricsPort);
  } catch (error) {
    await app.close();
    throw error;
  }
  transport.health.setAll("SERVING");
  logger.info("service started", { grpcPort: transport.port, metricsPort, maxMessageBytes: config.maxMessageBytes });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info("shutting down", { reason });
      transport.health.setAll("NOT_SERVING");
      transport.health.endWatches();
      const server = transport.grpcServer;
      // tryShutdown refuses new calls at once and calls back when every call in flight has sent
      // its status; past the grace period the rest are cancelled.
      const drained = new Promise<"drained">((resolve) => server.tryShutdown(() => resolve("drained")));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownGraceMs);
      });
      if ((await Promise.race([drained, graceOver])) === "timeout") {
        logger.warn("grace period over, cancelling calls in flight", { graceMs: config.shutdownGraceMs });
        server.forceShutdown();
      }
      clearTimeout(timer);
      await app.close();
      await metricsServer.close();
      logger.info("stopped", { reason });
    })();
    return stopping;
  };

  return {
    config,
    grpcPort: transport.port,
    metricsPort,
    logger,
    metrics,
    setServing: (serving) => transport.health.setAll(serving ? "SERVING" : "NOT_SERVING"),
    shutdown,
  };
}
