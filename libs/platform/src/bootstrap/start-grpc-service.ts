import "reflect-metadata";
import { format } from "node:util";
import { JsonLogger } from "@exits/base";
import { contractsDescriptorSet } from "@exits/contracts";
import * as grpc from "@grpc/grpc-js";
import type { DynamicModule, INestMicroservice } from "@nestjs/common";
import { Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ConfigError } from "../config/config-error.js";
import { ensureDataDir } from "../config/data-dir.js";
import { loadServiceConfig, type ServiceConfig } from "../config/service-config.js";
import { ExitsGrpcServer } from "../grpc/exits-grpc-server.js";
import { GrpcStatusFilter } from "../grpc/grpc-status.filter.js";
import { rejectUndecodable } from "../grpc/reject-undecodable.js";
import { rpcObserver } from "../grpc/rpc-observer.js";
import { MetricsHttpServer } from "../metrics/metrics-http-server.js";
import { ServiceMetrics } from "../metrics/service-metrics.js";
import { bindError } from "./bind-error.js";
import { SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, SERVICE_READINESS } from "./platform-tokens.js";
import { ServiceReadiness } from "./service-readiness.js";
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
   * Graceful stop: health goes NOT_SERVING and calls are still served for `drainMs` (the
   * signal handler passes EXITS_SHUTDOWN_DRAIN_MS; in-process callers need none), then new
   * calls are refused, calls in flight finish (up to EXITS_SHUTDOWN_GRACE_MS, then they are
   * cancelled), then everything closes.
   */
  shutdown(reason: string, drainMs?: number): Promise<void>;
}

@Module({})
class PlatformRootModule {}

function rootModule(
  spec: GrpcServiceSpec,
  config: ServiceConfig,
  logger: JsonLogger,
  metrics: ServiceMetrics,
  readiness: ServiceReadiness,
) {
  return {
    module: PlatformRootModule,
    global: true,
    imports: [spec.module],
    providers: [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: SERVICE_LOGGER, useValue: logger },
      { provide: SERVICE_METRICS, useValue: metrics },
      { provide: SERVICE_READINESS, useValue: readiness },
    ],
    exports: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, SERVICE_READINESS],
  } satisfies DynamicModule;
}

/**
 * Starts one service: validated configuration and data directory (a `ConfigError` is thrown
 * before anything binds; a port in use or an unbindable host is one too, naming its variable),
 * `/metrics` over HTTP on its own port, then the NestJS gRPC server with raised message limits,
 * health, reflection, strict request decoding, the per-RPC metrics and status mapping.
 */
export async function startGrpcService(
  spec: GrpcServiceSpec,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningService> {
  const config = loadServiceConfig(spec.name, spec.defaultPort, env);
  ensureDataDir(config.dataDir);
  const logger = new JsonLogger(spec.name, config.logLevel);
  const metrics = new ServiceMetrics(spec.name);
  // grpc-js writes its own diagnostics ("E ... No address added") raw to stderr; keep them in
  // the JSON log instead, so a failed start prints only the one-line reason there.
  grpc.setLogger({
    error: (message: unknown, ...rest: unknown[]) => logger.warn(format(message, ...rest), "grpc-js"),
    info: (message: unknown, ...rest: unknown[]) => logger.debug(format(message, ...rest), "grpc-js"),
    debug: (message: unknown, ...rest: unknown[]) => logger.debug(format(message, ...rest), "grpc-js"),
  });

  // /metrics binds first, so a busy metrics port stops startup before NestJS reports success.
  const metricsServer = new MetricsHttpServer(metrics.registry);
  let metricsPort: number;
  try {
    metricsPort = await metricsServer.listen(config.grpcHost, config.metricsPort);
  } catch (error) {
    throw bindError(error, {
      host: config.grpcHost,
      port: config.metricsPort,
      portVariable: "EXITS_METRICS_PORT",
      what: "metrics",
    });
  }

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
    // The contracts' set also holds grpc/health/v1/health.proto, which every server serves.
    [spec.proto.descriptorSet, contractsDescriptorSet()],
    // rpcObserver first: only the innermost interceptor sees the statuses grpc-js sends itself.
    [rpcObserver(metrics), rejectUndecodable(logger)],
  );

  const readiness = new ServiceReadiness();
  let app: INestMicroservice | undefined;
  try {
    app = await NestFactory.createMicroservice(rootModule(spec, config, logger, metrics, readiness), {
      strategy: transport,
      logger,
      bufferLogs: false,
    });
    app.useGlobalFilters(new GrpcStatusFilter(logger));
    await app.listen();
  } catch (error) {
    await metricsServer.close();
    await app?.close().catch(() => undefined);
    if (error instanceof ConfigError || !isBindFailure(error)) throw error;
    throw bindError(error, {
      host: config.grpcHost,
      port: config.grpcPort,
      portVariable: "EXITS_GRPC_PORT",
      what: "gRPC",
    });
  }
  const nest = app;
  // The server as a whole ("") stays SERVING while the process lives (liveness); the named
  // services follow the module's readiness (readiness probes, load balancers).
  transport.health.setStatus("", "SERVING");
  readiness.bind((ready) => {
    for (const name of spec.proto.services) transport.health.setStatus(name, ready ? "SERVING" : "NOT_SERVING");
  });
  logger.info("service started", { grpcPort: transport.port, metricsPort, maxMessageBytes: config.maxMessageBytes });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string, drainMs = 0): Promise<void> => {
    stopping ??= (async () => {
      logger.info("shutting down", { reason, drainMs, graceMs: config.shutdownGraceMs });
      readiness.bind(undefined);
      transport.health.setAll("NOT_SERVING");
      // Load balancers and Kubernetes endpoints stop routing here only once they have seen
      // NOT_SERVING (or the pod's removal); until then new calls keep arriving and are served.
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
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
      await nest.close();
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
    setServing: (serving) => readiness.set(serving),
    shutdown,
  };
}

/** grpc-js's bindAsync failures: "No address added out of total N resolved", or a resolution failure. */
function isBindFailure(error: unknown): boolean {
  return /No address added|Name resolution failed|EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND|resolve/i.test(
    String((error as Error)?.message ?? error),
  );
}
