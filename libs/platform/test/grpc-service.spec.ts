import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { type RunningService, startGrpcService } from "../src/bootstrap/start-grpc-service.js";
import { ConfigError } from "../src/config/config-error.js";
import { checkHealth } from "../src/probe/health-probe.js";
import { metricSample, scrapeMetrics } from "../src/probe/metrics-probe.js";
import { listServicesByReflection } from "../src/probe/reflection-probe.js";
import { PROBE_SERVICE_SPEC } from "./fixtures/probe.module.js";
import { ProbeClient } from "./probe-client.js";

const quiet = { EXITS_GRPC_HOST: "127.0.0.1", EXITS_GRPC_PORT: "0", EXITS_METRICS_PORT: "0", EXITS_LOG_LEVEL: "error" };

describe("a service started by the platform, over real gRPC on loopback", () => {
  let service: RunningService;
  let client: ProbeClient;
  let address: string;

  before(async () => {
    service = await startGrpcService(PROBE_SERVICE_SPEC, { ...quiet, EXITS_GRPC_MAX_MESSAGE_MB: "1" });
    address = `127.0.0.1:${service.grpcPort}`;
    client = new ProbeClient(address, { "grpc.max_send_message_length": 8 * 1024 * 1024 });
  });
  after(async () => {
    client.close();
    await service.shutdown("test over");
  });

  test("health answers SERVING for the server and for the service", async () => {
    assert.equal(await checkHealth(address, ""), "SERVING");
    assert.equal(await checkHealth(address, "exits.testing.ProbeService"), "SERVING");
  });

  test("reflection lists the service next to health and reflection", async () => {
    const names = await listServicesByReflection(address);
    assert.ok(names.includes("exits.testing.ProbeService"), names.join(","));
    assert.ok(names.includes("grpc.health.v1.Health"), names.join(","));
  });

  test("/metrics shows the RPC latency histogram labelled by method and code after a call", async () => {
    const reply = await client.call<{ text: string }>("echo", { text: "hi" });
    assert.equal(reply.text, "hi");
    await assert.rejects(client.call("fail", { kind: "missing" }));
    const text = await scrapeMetrics("127.0.0.1", service.metricsPort);
    const count = (method: string, code: string) =>
      metricSample(text, "exits_grpc_server_handling_seconds_count", { method, code });
    assert.equal(count("/exits.testing.ProbeService/Echo", "OK"), 1);
    assert.equal(count("/exits.testing.ProbeService/Fail", "NOT_FOUND"), 1);
    assert.ok(text.includes("exits_process_cpu_user_seconds_total"), "process metrics are exported");
  });

  const expected: Array<[string, status, RegExp]> = [
    ["invalid", status.INVALID_ARGUMENT, /points\[2\]\.x: must lie inside the image/],
    ["missing", status.NOT_FOUND, /model generator-v1 not found/],
    ["full", status.RESOURCE_EXHAUSTED, /queue is full/],
    ["loading", status.UNAVAILABLE, /loading/],
    ["slow", status.DEADLINE_EXCEEDED, /deadline/],
    ["later", status.UNIMPLEMENTED, /not implemented yet/],
    ["bug", status.INTERNAL, /internal error/],
  ];
  for (const [kind, code, message] of expected) {
    test(`a ${kind} failure reaches the client as ${status[code]}, never UNKNOWN`, async () => {
      const error = await client.call("fail", { kind }).then(
        () => assert.fail("the call should fail"),
        (e: { code: number; details: string; metadata: { get(k: string): unknown[] } }) => e,
      );
      assert.equal(status[error.code], status[code]);
      assert.match(error.details, message);
      if (code === status.INVALID_ARGUMENT) assert.deepEqual(error.metadata.get("exits-field"), ["points[2].x"]);
    });
  }

  test("a stream that fails after sending items ends with the mapped status, never UNKNOWN", async () => {
    const ok = await client.count({ upTo: 3 });
    assert.deepEqual(ok, { received: [1, 2, 3] });
    const full = await client.count({ upTo: 3, thenFail: "full" });
    assert.deepEqual(full.received, [1, 2, 3]);
    assert.equal(status[full.error!.code], "RESOURCE_EXHAUSTED");
    assert.match(full.error!.details, /queue is full/);
    const bug = await client.count({ upTo: 2, thenFail: "bug" });
    assert.deepEqual(bug.received, [1, 2]);
    assert.equal(status[bug.error!.code], "INTERNAL");
    assert.doesNotMatch(bug.error!.details, /cannot read properties/);
    const text = await scrapeMetrics("127.0.0.1", service.metricsPort);
    const count = (code: string) =>
      metricSample(text, "exits_grpc_server_handling_seconds_count", {
        method: "/exits.testing.ProbeService/Count",
        code,
      });
    assert.deepEqual([count("OK"), count("RESOURCE_EXHAUSTED"), count("INTERNAL")], [1, 1, 1]);
  });

  test("an oversized message is rejected with RESOURCE_EXHAUSTED and the server stays healthy", async () => {
    const big = new Uint8Array(2 * 1024 * 1024);
    const error = await client.call("echo", { text: "big", payload: big }).then(
      () => assert.fail("a 2 MiB message must not pass a 1 MiB limit"),
      (e: { code: number }) => e,
    );
    assert.equal(error.code, status.RESOURCE_EXHAUSTED);
    assert.equal(await checkHealth(address), "SERVING");
    const small = await client.call<{ payloadBytes: number }>("echo", { text: "ok", payload: new Uint8Array(1000) });
    assert.equal(small.payloadBytes, 1000);
  });
});

describe("configuration", () => {
  test("a bad value stops startup with an error naming the variable", async () => {
    for (const [variable, value] of [
      ["EXITS_GRPC_PORT", "http"],
      ["EXITS_GRPC_MAX_MESSAGE_MB", "0"],
      ["EXITS_LOG_LEVEL", "loud"],
      ["EXITS_EXECUTION_PROVIDER", "tpu"],
    ]) {
      await assert.rejects(startGrpcService(PROBE_SERVICE_SPEC, { ...quiet, [variable]: value }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, variable);
        assert.ok(error.message.includes(value), error.message);
        return true;
      });
    }
  });

  const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === "::1"));
  test("an IPv6 literal host binds (the gRPC address gets its brackets)", {
    skip: hasIpv6Loopback ? undefined : "no IPv6 loopback (::1) on this machine",
  }, async () => {
    const service = await startGrpcService(PROBE_SERVICE_SPEC, { ...quiet, EXITS_GRPC_HOST: "::1" });
    try {
      assert.equal(await checkHealth(`[::1]:${service.grpcPort}`), "SERVING");
    } finally {
      await service.shutdown("test over");
    }
  });

  test("the message limit defaults to 64 MiB", async () => {
    const service = await startGrpcService(PROBE_SERVICE_SPEC, quiet);
    try {
      assert.equal(service.config.maxMessageBytes, 64 * 1024 * 1024);
    } finally {
      await service.shutdown("test over");
    }
  });
});
