import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type RunningService, startGrpcService } from "../src/bootstrap/start-grpc-service.js";
import { metricSample, scrapeMetrics } from "../src/probe/metrics-probe.js";
import { PROBE_SERVICE_SPEC } from "./fixtures/probe.module.js";
import { ProbeClient } from "./probe-client.js";

const env = {
  EXITS_GRPC_HOST: "127.0.0.1",
  EXITS_GRPC_PORT: "0",
  EXITS_METRICS_PORT: "0",
  EXITS_LOG_LEVEL: "warn",
  EXITS_GRPC_MAX_MESSAGE_MB: "1",
};

/** Sends raw bytes as the request of a unary method, as a fuzzer or a broken client would. */
function sendRaw(address: string, path: string, bytes: number[] | Uint8Array): Promise<grpc.ServiceError | Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 8 * 1024 * 1024,
  });
  return new Promise<grpc.ServiceError | Buffer>((resolve) => {
    client.makeUnaryRequest(
      path,
      (value: Uint8Array) => Buffer.from(value),
      (reply: Buffer) => reply,
      Uint8Array.from(bytes),
      { deadline: Date.now() + 5000 },
      (error, reply) => resolve(error ?? reply!),
    );
  }).finally(() => client.close());
}

/** Captures the service's JSON log lines (stdout) while `run` runs. */
async function capturingLogs<T>(
  run: () => Promise<T>,
): Promise<{ result: T; records: Array<Record<string, unknown>> }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = chunk.toString();
    if (text.startsWith('{"time"')) {
      lines.push(text);
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    const result = await run();
    return { result, records: lines.flatMap((l) => l.trim().split("\n")).map((l) => JSON.parse(l)) };
  } finally {
    process.stdout.write = write;
  }
}

describe("statuses and metrics say what the client received", () => {
  let service: RunningService;
  let address: string;
  const count = async (method: string, code: string) =>
    metricSample(await scrapeMetrics("127.0.0.1", service.metricsPort), "exits_grpc_server_handling_seconds_count", {
      method: `/exits.testing.ProbeService/${method}`,
      code,
    });

  before(async () => {
    service = await startGrpcService(PROBE_SERVICE_SPEC, env);
    address = `127.0.0.1:${service.grpcPort}`;
  });
  after(() => service.shutdown("test over"));

  // Echo's request is { string text = 1; bytes payload = 2; }: the handler echoes `text`.
  const malformed: Array<[string, number[], string, RegExp]> = [
    ["not a protobuf at all", [0xff, 0xff, 0xff, 0xff], "(request)", /varint|wire type|tag/],
    ["wire type 7", [0x0f, 0x00], "text", /invalid wire type 7/],
    ["a length prefix claiming 4 GiB", [0x0a, 0x80, 0x80, 0x80, 0x80, 0x10, 0x41], "text", /claims 4294967296 bytes/],
    ["invalid UTF-8 in a string", [0x0a, 0x02, 0xc3, 0x28], "text", /not valid UTF-8/],
    ["an unknown field with wire type 6", [0x0a, 0x01, 0x41, 0x4e], "#9", /invalid wire type 6/],
  ];

  test("malformed bytes answer INVALID_ARGUMENT naming the field, are logged, and never reach the handler", async () => {
    const { result, records } = await capturingLogs(async () => {
      const answers: grpc.ServiceError[] = [];
      for (const [, bytes] of malformed)
        answers.push((await sendRaw(address, "/exits.testing.ProbeService/Echo", bytes)) as grpc.ServiceError);
      return answers;
    });
    malformed.forEach(([what, , field, reason], i) => {
      const error = result[i]!;
      assert.equal(grpc.status[error.code], "INVALID_ARGUMENT", `${what}: ${error.details}`);
      assert.match(error.details, reason, what);
      assert.match(error.details, /not a valid exits\.testing\.EchoRequest/, what);
      if (field !== "(request)") assert.deepEqual(error.metadata.get("exits-field"), [field], what);
    });
    const warnings = records.filter((r) => r["msg"] === "rejected a request that is not a valid protobuf");
    assert.equal(warnings.length, malformed.length, JSON.stringify(records));
    assert.equal(warnings[0]!["method"], "/exits.testing.ProbeService/Echo");
    assert.equal(await count("Echo", "INVALID_ARGUMENT"), malformed.length);
    assert.equal(await count("Echo", "OK"), undefined, "no malformed request was answered by the handler");
    // A well-formed request still works, unknown fields and all.
    const ok = await sendRaw(address, "/exits.testing.ProbeService/Echo", [0x0a, 0x02, 0x68, 0x69, 0x48, 0x01]);
    assert.ok(Buffer.isBuffer(ok), String(ok));
    assert.deepEqual([...ok.subarray(0, 4)], [0x0a, 0x02, 0x68, 0x69]);
  });

  test("an oversized request is counted as the RESOURCE_EXHAUSTED the client saw, not CANCELLED", async () => {
    const error = (await sendRaw(
      address,
      "/exits.testing.ProbeService/Fail",
      new Uint8Array(2 * 1024 * 1024),
    )) as grpc.ServiceError;
    assert.equal(grpc.status[error.code], "RESOURCE_EXHAUSTED");
    assert.equal(await count("Fail", "RESOURCE_EXHAUSTED"), 1);
    assert.equal(await count("Fail", "CANCELLED"), undefined);
  });

  test("a call past its deadline is counted DEADLINE_EXCEEDED, not the handler's later OK", async () => {
    const client = new ProbeClient(address);
    try {
      const error = await client.call("sleep", { millis: 600 }, 150).then(
        () => assert.fail("the deadline should fire first"),
        (e: grpc.ServiceError) => e,
      );
      assert.equal(grpc.status[error.code], "DEADLINE_EXCEEDED");
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(await count("Sleep", "DEADLINE_EXCEEDED"), 1);
      assert.equal(await count("Sleep", "OK"), undefined);
    } finally {
      client.close();
    }
  });
});
