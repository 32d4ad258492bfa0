import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync, type ServiceDefinition } from "@grpc/proto-loader";
import type { DescriptorIndex } from "./descriptor-index.js";

const reflectionRoot = join(
  dirname(createRequire(import.meta.url).resolve("@grpc/reflection/package.json")),
  "build/proto",
);

/** Both versions still in use: grpcurl and grpcui try v1 then fall back to v1alpha. */
const VERSIONS = ["v1", "v1alpha"] as const;

interface ReflectionRequest {
  host: string;
  messageRequest?:
    | "fileByFilename"
    | "fileContainingSymbol"
    | "fileContainingExtension"
    | "allExtensionNumbersOfType"
    | "listServices";
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType: string; extensionNumber: number };
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

type ReflectionCall = grpc.ServerDuplexStream<ReflectionRequest, Record<string, unknown>>;

const NOT_FOUND = grpc.status.NOT_FOUND;

/**
 * `grpc.reflection.v1` and `v1alpha` ServerReflection over the FileDescriptorProtos protoc
 * compiled (a `DescriptorIndex`), rather than descriptors rebuilt from a loaded package: clients
 * get the real file names, snake_case field names with json_name, proto3_optional and map
 * entries, and each file's imports. As grpc-go does, a file's dependencies come with it, each
 * file at most once per stream except the one asked for.
 */
export class ReflectionServer {
  constructor(
    private readonly index: DescriptorIndex,
    /** Services listed by `list_services`: those the server actually serves. */
    private readonly services: readonly string[],
  ) {}

  addToServer(server: grpc.Server): void {
    for (const version of VERSIONS) {
      const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, {
        includeDirs: [reflectionRoot],
        oneofs: true,
        longs: Number,
      });
      const service = definition[`grpc.reflection.${version}.ServerReflection`] as ServiceDefinition;
      server.addService(service as unknown as grpc.ServiceDefinition, {
        serverReflectionInfo: (call: ReflectionCall) => this.serve(call),
      });
    }
  }

  private serve(call: ReflectionCall): void {
    const sent = new Set<string>();
    call.on("data", (request: ReflectionRequest) => {
      call.write({ validHost: request.host, originalRequest: request, ...this.answer(request, sent) });
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  }

  /** The response body for one request: a oneof member of ServerReflectionResponse. */
  answer(request: ReflectionRequest, sent: Set<string>): Record<string, unknown> {
    switch (request.messageRequest) {
      case "listServices":
        return { listServicesResponse: { service: this.services.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.files(request.fileByFilename ?? "", sent, `no file named "${request.fileByFilename}"`);
      case "fileContainingSymbol": {
        const symbol = request.fileContainingSymbol ?? "";
        const file = this.index.fileOfSymbolName(symbol);
        return this.files(file, sent, `no symbol named "${symbol}"`);
      }
      case "fileContainingExtension":
        // No file here declares extensions (proto3 has none outside options).
        return error(
          NOT_FOUND,
          `no extension ${request.fileContainingExtension?.extensionNumber} of ${request.fileContainingExtension?.containingType}`,
        );
      case "allExtensionNumbersOfType": {
        const type = request.allExtensionNumbersOfType ?? "";
        if (!this.index.message(type)) return error(NOT_FOUND, `no message type named "${type}"`);
        return { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } };
      }
      default:
        return error(grpc.status.INVALID_ARGUMENT, "the request names no reflection query");
    }
  }

  private files(name: string | undefined, sent: Set<string>, missing: string): Record<string, unknown> {
    const files = name === undefined ? undefined : this.index.fileWithDependencies(name);
    if (!files || name === undefined) return error(NOT_FOUND, missing);
    const fresh = files.filter(({ name: file }) => file === name || !sent.has(file));
    for (const { name: file } of fresh) sent.add(file);
    return { fileDescriptorResponse: { fileDescriptorProto: fresh.map(({ bytes }) => Buffer.from(bytes)) } };
  }
}

function error(code: grpc.status, message: string): Record<string, unknown> {
  return { errorResponse: { errorCode: code, errorMessage: message } };
}
