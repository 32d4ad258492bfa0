import assert from "node:assert/strict";
import { isAbsolute } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "./config-error.js";
import { loadServiceConfig } from "./service-config.js";

function rejects(env: Record<string, string>, variable: string, reason: RegExp): void {
  assert.throws(
    () => loadServiceConfig("mask", 50055, env),
    (error: unknown) => error instanceof ConfigError && error.variable === variable && reason.test(error.message),
  );
}

describe("loadServiceConfig", () => {
  test("defaults: the service's port, metrics on port + 1000, 64 MiB messages, 5 s drain + 20 s grace", () => {
    const config = loadServiceConfig("mask", 50055, {});
    assert.equal(config.grpcHost, "0.0.0.0");
    assert.equal(config.grpcPort, 50055);
    assert.equal(config.metricsPort, 51055);
    assert.equal(config.maxMessageBytes, 64 * 1024 * 1024);
    assert.equal(config.shutdownDrainMs, 5_000);
    assert.equal(config.shutdownGraceMs, 20_000);
    // Kubernetes sends SIGKILL 30 s (terminationGracePeriodSeconds) after SIGTERM.
    assert.ok(config.shutdownDrainMs + config.shutdownGraceMs < 30_000);
    assert.equal(config.logLevel, "info");
    assert.equal(config.executionProvider, "auto");
    assert.equal(config.intraOpThreads, 2);
    assert.ok(isAbsolute(config.dataDir) && config.dataDir.endsWith(".exits-data"), config.dataDir);
  });

  test("values from the environment; empty means unset (ports aside); port 0 puts metrics on a free port too", () => {
    const config = loadServiceConfig("mask", 50055, {
      EXITS_GRPC_PORT: "0",
      EXITS_GRPC_MAX_MESSAGE_MB: " 128 ",
      EXITS_LOG_LEVEL: "",
      EXITS_DATA_DIR: "/data",
    });
    assert.equal(config.grpcPort, 0);
    assert.equal(config.metricsPort, 0);
    assert.equal(config.maxMessageBytes, 128 * 1024 * 1024);
    assert.equal(config.logLevel, "info");
    assert.equal(config.dataDir, "/data");
  });

  test("a bad value names its variable and says why", () => {
    rejects({ EXITS_GRPC_PORT: "65536" }, "EXITS_GRPC_PORT", /outside \[0, 65535\]/);
    rejects({ EXITS_GRPC_PORT: "1.5" }, "EXITS_GRPC_PORT", /expected an integer/);
    rejects({ EXITS_METRICS_PORT: "-1" }, "EXITS_METRICS_PORT", /outside/);
    rejects({ EXITS_GRPC_MAX_MESSAGE_MB: "4096" }, "EXITS_GRPC_MAX_MESSAGE_MB", /outside \[1, 2047\]/);
    rejects({ EXITS_SHUTDOWN_GRACE_MS: "soon" }, "EXITS_SHUTDOWN_GRACE_MS", /expected an integer/);
    rejects({ EXITS_INTRA_OP_THREADS: "0" }, "EXITS_INTRA_OP_THREADS", /outside/);
    rejects({ EXITS_GRPC_HOST: "http://x" }, "EXITS_GRPC_HOST", /not a host/);
    rejects({ EXITS_SHUTDOWN_DRAIN_MS: "-1" }, "EXITS_SHUTDOWN_DRAIN_MS", /outside/);
  });

  test("a port variable set but empty is an error, not the default", () => {
    rejects({ EXITS_GRPC_PORT: "" }, "EXITS_GRPC_PORT", /set but empty; unset it for the default \(50055\)/);
    rejects({ EXITS_GRPC_PORT: " " }, "EXITS_GRPC_PORT", /set but empty/);
    rejects({ EXITS_METRICS_PORT: "" }, "EXITS_METRICS_PORT", /set but empty/);
  });

  test("a gRPC port whose default metrics port would pass 65535 asks for EXITS_METRICS_PORT", () => {
    rejects({ EXITS_GRPC_PORT: "65000" }, "EXITS_METRICS_PORT", /66000/);
    assert.equal(
      loadServiceConfig("mask", 50055, { EXITS_GRPC_PORT: "65000", EXITS_METRICS_PORT: "9100" }).metricsPort,
      9100,
    );
  });
});
