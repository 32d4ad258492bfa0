import { isAbsolute, resolve } from "node:path";
import {
  defaultExecutionProvider,
  defaultIntraOpThreads,
  type ExecutionProviderChoice,
  executionProviders,
  type LogLevel,
  logLevels,
} from "@exits/base";
import { ConfigError } from "./config-error.js";
import { EnvReader } from "./env-reader.js";

export type { ExecutionProviderChoice, LogLevel };
export const LOG_LEVELS = logLevels;
export const EXECUTION_PROVIDERS = executionProviders;

/**
 * Everything a service reads from its environment, parsed and validated once at startup.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | EXITS_GRPC_HOST | 0.0.0.0 | address the gRPC server binds |
 * | EXITS_GRPC_PORT | per service (50051…50056) | gRPC port; 0 picks a free port |
 * | EXITS_METRICS_PORT | gRPC port + 1000 | Prometheus `/metrics` HTTP port; 0 picks a free port |
 * | EXITS_GRPC_MAX_MESSAGE_MB | 64 | largest gRPC message accepted or sent, in MiB |
 * | EXITS_SHUTDOWN_DRAIN_MS | 5000 | after SIGTERM, how long the service keeps serving with health NOT_SERVING |
 * | EXITS_SHUTDOWN_GRACE_MS | 20000 | then how long calls in flight may finish before they are cancelled |
 * | EXITS_LOG_LEVEL | info | debug, info, warn or error |
 * | EXITS_DATA_DIR | ./.exits-data | datasets, models, checkpoints and exports; created if absent, must be writable |
 * | EXITS_EXECUTION_PROVIDER | auto | ONNX Runtime provider: auto (CUDA if present), cpu, cuda |
 * | EXITS_INTRA_OP_THREADS | 2 | ONNX Runtime intra-op threads |
 *
 * The last two defaults are the runtime's own (`@exits/base` execution defaults), so a service
 * and a library caller that set nothing get the same sessions.
 */
export interface ServiceConfig {
  readonly service: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly maxMessageBytes: number;
  /** Kept serving after SIGTERM while load balancers see NOT_SERVING; drain + grace < Kubernetes' 30 s. */
  readonly shutdownDrainMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  readonly dataDir: string;
  readonly executionProvider: ExecutionProviderChoice;
  readonly intraOpThreads: number;
  /**
   * The environment this configuration was read from. A service module reads its own variables
   * (peer addresses, batching limits, default models) from here with `EnvReader`, never from
   * `process.env` directly, so that several services started in one process (tests, the
   * embedded default) each get their own.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function loadServiceConfig(
  service: string,
  defaultGrpcPort: number,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServiceConfig {
  const read = new EnvReader(env);
  const grpcPort = read.port("EXITS_GRPC_PORT", defaultGrpcPort);
  const metricsPort = read.port("EXITS_METRICS_PORT", grpcPort === 0 ? 0 : grpcPort + 1000);
  if (metricsPort > 65535) {
    throw new ConfigError(
      "EXITS_METRICS_PORT",
      `unset, and its default EXITS_GRPC_PORT + 1000 = ${metricsPort} is no port`,
    );
  }
  const dataDir = read.string("EXITS_DATA_DIR", ".exits-data");
  return {
    service,
    grpcHost: read.host("EXITS_GRPC_HOST", "0.0.0.0"),
    grpcPort,
    metricsPort,
    maxMessageBytes: read.integer("EXITS_GRPC_MAX_MESSAGE_MB", 64, { min: 1, max: 2047 }) * 1024 * 1024,
    shutdownDrainMs: read.integer("EXITS_SHUTDOWN_DRAIN_MS", 5_000, { min: 0, max: 3_600_000 }),
    shutdownGraceMs: read.integer("EXITS_SHUTDOWN_GRACE_MS", 20_000, { min: 0, max: 3_600_000 }),
    logLevel: read.oneOf("EXITS_LOG_LEVEL", LOG_LEVELS, "info"),
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
    executionProvider: read.oneOf("EXITS_EXECUTION_PROVIDER", executionProviders, defaultExecutionProvider),
    intraOpThreads: read.integer("EXITS_INTRA_OP_THREADS", defaultIntraOpThreads, { min: 1, max: 256 }),
    env,
  };
}
