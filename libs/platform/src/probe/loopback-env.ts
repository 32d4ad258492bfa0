/**
 * The environment of a service started on loopback for a test, a bench or a tool: free ports,
 * quiet logs, no shutdown drain, the CPU provider with one thread, `dataDir` as EXITS_DATA_DIR;
 * `extra` adds or overrides variables.
 */
export function loopbackServiceEnv(
  dataDir: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    EXITS_GRPC_HOST: "127.0.0.1",
    EXITS_GRPC_PORT: "0",
    EXITS_METRICS_PORT: "0",
    EXITS_LOG_LEVEL: "error",
    EXITS_SHUTDOWN_DRAIN_MS: "0",
    EXITS_EXECUTION_PROVIDER: "cpu",
    EXITS_INTRA_OP_THREADS: "1",
    EXITS_DATA_DIR: dataDir,
    ...extra,
  };
}
