import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { type RunningService, startGrpcService } from "../src/bootstrap/start-grpc-service.js";
import { fetchDescriptorsByReflection, listServicesByReflection } from "../src/probe/reflection-probe.js";
import { PROBE_SERVICE_SPEC } from "./fixtures/probe.module.js";
import { rootFromReflection } from "./reflected-root.js";

const quiet = { EXITS_GRPC_HOST: "127.0.0.1", EXITS_GRPC_PORT: "0", EXITS_METRICS_PORT: "0", EXITS_LOG_LEVEL: "error" };

function unary(address: string, path: string, request: Uint8Array): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Buffer) => bytes,
      request,
      { deadline: Date.now() + 5000 },
      (error, reply) => (error ? reject(error) : resolve(reply!)),
    );
  }).finally(() => client.close());
}

describe("server reflection serves protoc's own descriptors", () => {
  let service: RunningService;
  let address: string;
  before(async () => {
    service = await startGrpcService(PROBE_SERVICE_SPEC, quiet);
    address = `127.0.0.1:${service.grpcPort}`;
  });
  after(() => service.shutdown("test over"));

  test("lists the served services and health, nothing else", async () => {
    assert.deepEqual(await listServicesByReflection(address), ["exits.testing.ProbeService", "grpc.health.v1.Health"]);
  });

  test("a request built from reflected descriptors alone, with snake_case fields, gets a real answer", async () => {
    const files = await fetchDescriptorsByReflection(address, { fileContainingSymbol: "exits.testing.ProbeService" });
    const root = rootFromReflection(files);
    const method = root.lookupService("exits.testing.ProbeService").methods["Shape"]!;
    method.resolve();
    const requestType = root.lookupType(method.requestType);
    const replyType = root.lookupType(method.responseType);
    // What grpcurl -d '{"crop_size": 7, ...}' does: fields by their proto names. protobufjs's
    // fromDescriptor keeps a map as its repeated entry messages, which encode identically.
    const request = requestType.fromObject({
      crop_size: 7,
      label_counts: [
        { key: "dog", value: 1 },
        { key: "cat", value: 2 },
      ],
      inner_echo: { text: "hi" },
    });
    const reply = replyType.toObject(
      replyType.decode(await unary(address, "/exits.testing.ProbeService/Shape", requestType.encode(request).finish())),
    );
    assert.deepEqual(reply, { summary: "crop_size=7 labels=cat=2,dog=1 inner=hi" });
    const unset = replyType.toObject(
      replyType.decode(await unary(address, "/exits.testing.ProbeService/Shape", new Uint8Array())),
    );
    assert.deepEqual(unset, { summary: "crop_size=unset labels= inner=" });
  });

  test("fields keep snake_case names with json_name, optional is proto3_optional, maps are map entries", async () => {
    const [bytes] = await fetchDescriptorsByReflection(address, { fileByFilename: "probe.proto" });
    const file = fromBinary(FileDescriptorProtoSchema, bytes!);
    assert.equal(file.name, "probe.proto");
    assert.equal(file.package, "exits.testing");
    const shape = file.messageType.find((m) => m.name === "ShapeRequest")!;
    const cropSize = shape.field.find((f) => f.number === 1)!;
    assert.deepEqual(
      {
        name: cropSize.name,
        jsonName: cropSize.jsonName,
        proto3Optional: cropSize.proto3Optional,
        oneof: shape.oneofDecl[cropSize.oneofIndex!]?.name,
      },
      { name: "crop_size", jsonName: "cropSize", proto3Optional: true, oneof: "_crop_size" },
    );
    const labels = shape.field.find((f) => f.number === 2)!;
    assert.equal(labels.name, "label_counts");
    assert.equal(labels.label, FieldDescriptorProto_Label.REPEATED);
    assert.equal(labels.typeName, ".exits.testing.ShapeRequest.LabelCountsEntry");
    const entry = shape.nestedType.find((m) => m.name === "LabelCountsEntry")!;
    assert.equal(entry.options?.mapEntry, true);
    assert.deepEqual(
      entry.field.map((f) => f.name),
      ["key", "value"],
    );
  });

  test("health is served under its real file name, and by symbol", async () => {
    const byName = await fetchDescriptorsByReflection(address, { fileByFilename: "grpc/health/v1/health.proto" });
    const bySymbol = await fetchDescriptorsByReflection(address, {
      fileContainingSymbol: "grpc.health.v1.Health.Check",
    });
    assert.equal(fromBinary(FileDescriptorProtoSchema, byName[0]!).name, "grpc/health/v1/health.proto");
    assert.deepEqual(bySymbol[0], byName[0]);
    const root = rootFromReflection(byName);
    const Request = root.lookupType("grpc.health.v1.HealthCheckRequest");
    const Reply = root.lookupType("grpc.health.v1.HealthCheckResponse");
    const reply = await unary(
      address,
      "/grpc.health.v1.Health/Check",
      Request.encode(Request.fromObject({ service: "exits.testing.ProbeService" })).finish(),
    );
    assert.equal(Reply.toObject(Reply.decode(reply), { enums: String })["status"], "SERVING");
  });

  test("an unknown file or symbol answers NOT_FOUND", async () => {
    for (const query of [{ fileByFilename: "nope.proto" }, { fileContainingSymbol: "exits.testing.Nope" }]) {
      await assert.rejects(fetchDescriptorsByReflection(address, query), (error: { code: number }) => {
        assert.equal(error.code, grpc.status.NOT_FOUND);
        return true;
      });
    }
  });
});
