import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { PROTO_LOADER_OPTIONS, PROTO_ROOT, SERVICE_PROTOS } from "@exits/contracts";
import {
  checkHealth,
  fetchDescriptorsByReflection,
  listServicesByReflection,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { loadServiceSpec, SERVICE_NAMES } from "../../libs/cli/src/service-registry.js";

const repoRoot = new URL("../../", import.meta.url).pathname;
const env = {
  EXITS_GRPC_HOST: "127.0.0.1",
  EXITS_GRPC_PORT: "0",
  EXITS_METRICS_PORT: "0",
  EXITS_LOG_LEVEL: "error",
  EXITS_SHUTDOWN_DRAIN_MS: "0",
  EXITS_DATA_DIR: mkdtempSync(join(tmpdir(), "exits-serve-")),
};

interface MethodInfo {
  name: string;
  path: string;
  responseStream: boolean;
  requestStream: boolean;
}

/** A grpc-js client of one service, built from the committed .proto, plus its method table. */
function clientFor(name: keyof typeof SERVICE_PROTOS, address: string) {
  const { protoFile, fullName } = SERVICE_PROTOS[name];
  const definition = loadSync(`${PROTO_ROOT}/${protoFile}`, PROTO_LOADER_OPTIONS);
  const service = definition[fullName] as Record<
    string,
    { path: string; requestStream: boolean; responseStream: boolean }
  >;
  const Client = grpc.makeGenericClientConstructor(service as never, fullName);
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  const methods: MethodInfo[] = Object.entries(service).map(([methodName, m]) => ({
    name: methodName,
    path: m.path,
    responseStream: m.responseStream,
    requestStream: m.requestStream,
  }));
  return { client, methods };
}

/** Calls one method with an empty request and resolves to the status it ends with (0 = OK). */
function callWithEmptyRequest(
  client: Record<string, (...args: unknown[]) => unknown>,
  method: MethodInfo,
): Promise<{ code: grpc.status; details: string }> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    if (method.responseStream) {
      const stream = client[method.name]({}, { deadline }) as grpc.ClientReadableStream<unknown>;
      stream.on("data", () => undefined);
      stream.on("error", (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      stream.on("end", () => resolve({ code: grpc.status.OK, details: "" }));
    } else {
      client[method.name]({}, { deadline }, (error: grpc.ServiceError | null) =>
        resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, details: "" }),
      );
    }
  });
}

for (const name of SERVICE_NAMES) {
  describe(`${name} service over real gRPC on loopback`, () => {
    let service: RunningService;
    let address: string;
    const fullName = SERVICE_PROTOS[name].fullName;

    before(async () => {
      service = await startGrpcService(await loadServiceSpec(name), {
        ...env,
        EXITS_DATA_DIR: mkdtempSync(join(tmpdir(), `exits-${name}-`)),
      });
      address = `127.0.0.1:${service.grpcPort}`;
    });
    after(() => service.shutdown("test over"));

    test("health is SERVING for the server and the service: an empty data directory has no model to wait for", async () => {
      assert.equal(await checkHealth(address, ""), "SERVING");
      // The registry looks at the default model directory first (a stat): a moment of NOT_SERVING.
      for (let i = 0; i < 100 && (await checkHealth(address, fullName)) !== "SERVING"; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(await checkHealth(address, fullName), "SERVING");
    });

    test("reflection lists the service", async () => {
      assert.ok((await listServicesByReflection(address)).includes(fullName));
    });

    test("reflection serves the committed exits/v1 file by symbol, with every import, as protoc compiled it", async () => {
      const files = (await fetchDescriptorsByReflection(address, { fileContainingSymbol: fullName })).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      );
      assert.equal(files[0]!.name, SERVICE_PROTOS[name].protoFile);
      const names = new Set(files.map((file) => file.name));
      for (const file of files) for (const dependency of file.dependency) assert.ok(names.has(dependency), dependency);
      const byName = await fetchDescriptorsByReflection(address, { fileByFilename: SERVICE_PROTOS[name].protoFile });
      assert.equal(fromBinary(FileDescriptorProtoSchema, byName[0]!).name, SERVICE_PROTOS[name].protoFile);
      // Every method's request and reply type resolves from what reflection served.
      const service = files[0]!.service.find((s) => `exits.v1.${s.name}` === fullName)!;
      const declared = new Set(files.flatMap((file) => file.messageType.map((m) => `.${file.package}.${m.name}`)));
      for (const method of service.method) {
        assert.ok(declared.has(method.inputType), method.inputType);
        assert.ok(declared.has(method.outputType), method.outputType);
      }
    });

    test("no RPC is UNIMPLEMENTED: an empty request gets a deliberate status, and /metrics counts it", async () => {
      const { client, methods } = clientFor(name, address);
      try {
        assert.ok(methods.length >= 2, `${fullName} has ${methods.length} methods`);
        const codes = new Map<string, grpc.status>();
        for (const method of methods) {
          const { code, details } = await callWithEmptyRequest(client, method);
          // An empty request is either valid (List*, GetDefaults) or answered with what is
          // missing; never UNIMPLEMENTED, and never a crash (INTERNAL / UNKNOWN).
          assert.ok(
            ![grpc.status.UNIMPLEMENTED, grpc.status.INTERNAL, grpc.status.UNKNOWN].includes(code),
            `${method.path}: ${grpc.status[code]} ${details}`,
          );
          if (code !== grpc.status.OK) assert.ok(details.length > 10, `${method.path} says why: "${details}"`);
          codes.set(method.path, code);
        }
        const exposition = await scrapeMetrics("127.0.0.1", service.metricsPort);
        for (const [path, code] of codes) {
          const count = metricSample(exposition, "exits_grpc_server_handling_seconds_count", {
            method: path,
            code: grpc.status[code]!,
          });
          assert.equal(count, 1, `histogram sample for ${path} with ${grpc.status[code]}`);
        }
      } finally {
        client.close();
      }
    });
  });
}

describe("`exits serve` as a process", () => {
  const cli = ["--conditions=source", "--import", "./tools/register.mjs", "libs/cli/src/main.ts"];

  test("serve mask starts, answers health, logs only JSON lines, and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, [...cli, "serve", "mask"], {
      cwd: repoRoot,
      env: { ...process.env, ...env, EXITS_LOG_LEVEL: "debug" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
        child.stdout!.on("data", () => {
          const started = out.split("\n").find((line) => line.includes('"msg":"service started"'));
          if (started) resolve(JSON.parse(started).grpcPort);
        });
      });
      assert.equal(await checkHealth(`127.0.0.1:${port}`, ""), "SERVING");
      for (
        let i = 0;
        i < 100 && (await checkHealth(`127.0.0.1:${port}`, SERVICE_PROTOS.mask.fullName)) !== "SERVING";
        i++
      )
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(await checkHealth(`127.0.0.1:${port}`, SERVICE_PROTOS.mask.fullName), "SERVING");
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
      // Framework messages included: every line of stdout is one JSON log record.
      const records = out
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(records.length >= 3, out);
      for (const record of records) {
        assert.equal(record["service"], "mask");
        assert.ok(["debug", "info", "warn", "error"].includes(record["level"] as string), JSON.stringify(record));
        assert.equal(typeof record["msg"], "string");
        assert.ok(!Number.isNaN(Date.parse(record["time"] as string)));
      }
      assert.deepEqual(
        records.filter((r) => ["shutting down", "stopped"].includes(r["msg"] as string)).map((r) => r["reason"]),
        ["SIGTERM", "SIGTERM"],
      );
    } finally {
      child.kill("SIGKILL");
    }
  });

  /** Runs the CLI to its exit and returns the exit code and what it wrote to stderr. */
  async function runToExit(args: string[], extraEnv: Record<string, string> = {}) {
    const child = spawn(process.execPath, [...cli, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    return { code, stderr };
  }

  test("a bad configuration value stops startup with exit code 2 and names the variable", async () => {
    const { code, stderr } = await runToExit(["serve", "crf"], { EXITS_GRPC_MAX_MESSAGE_MB: "lots" });
    assert.equal(code, 2);
    assert.match(stderr, /EXITS_GRPC_MAX_MESSAGE_MB: expected an integer, got "lots"/);
  });

  test("an unknown service name is refused with the list of services", async () => {
    const { code, stderr } = await runToExit(["serve", "segmenter"]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /unknown service "segmenter"; choose one of similarity, retrieval, trainer, crf, mask, exporter/,
    );
  });
});

describe("reflection of the exits.v1 contracts", () => {
  test("CropConfig.crop_size keeps its proto name, json_name and proto3_optional; maps are map entries", async () => {
    const service = await startGrpcService(await loadServiceSpec("mask"), env);
    try {
      const [bytes] = await fetchDescriptorsByReflection(`127.0.0.1:${service.grpcPort}`, {
        fileContainingSymbol: "exits.v1.CropConfig.crop_size",
      });
      const file = fromBinary(FileDescriptorProtoSchema, bytes!);
      assert.equal(file.name, "exits/v1/config.proto");
      const crop = file.messageType.find((m) => m.name === "CropConfig")!;
      const cropSize = crop.field.find((f) => f.name === "crop_size")!;
      assert.deepEqual([cropSize.jsonName, cropSize.proto3Optional], ["cropSize", true]);
      const [jobBytes] = await fetchDescriptorsByReflection(`127.0.0.1:${service.grpcPort}`, {
        fileByFilename: "exits/v1/job.proto",
      });
      const list = fromBinary(FileDescriptorProtoSchema, jobBytes!).messageType.find(
        (m) => m.name === "ListJobsRequest",
      )!;
      const entry = list.nestedType.find((m) => m.name === "LabelSelectorEntry")!;
      assert.equal(entry.options?.mapEntry, true);
      assert.equal(
        list.field.find((f) => f.name === "label_selector")!.typeName,
        ".exits.v1.ListJobsRequest.LabelSelectorEntry",
      );
    } finally {
      await service.shutdown("test over");
    }
  });
});
