import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const reflectionProtoPath = join(
  dirname(require.resolve("@grpc/reflection/package.json")),
  "build/proto/grpc/reflection/v1/reflection.proto",
);

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** One query of `grpc.reflection.v1.ServerReflection` on its own stream; resolves to the answer. */
function askReflection(
  address: string,
  request: Record<string, string>,
  timeoutMs: number,
): Promise<ReflectionResponse> {
  const definition = grpc.loadPackageDefinition(loadSync(reflectionProtoPath, { defaults: true, oneofs: true }));
  const Reflection = (
    definition.grpc as grpc.GrpcObject & { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } }
  ).reflection.v1.ServerReflection;
  const client = new Reflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = (
      client as unknown as {
        serverReflectionInfo(options: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
      }
    ).serverReflectionInfo({ deadline: Date.now() + timeoutMs });
    call.on("data", (response: ReflectionResponse) => {
      resolve(response);
      call.end();
    });
    call.on("error", (error) => {
      client.close();
      reject(error);
    });
    call.on("end", () => client.close());
    call.write(request);
  });
}

/** Lists the services a server advertises through `grpc.reflection.v1.ServerReflection`. */
export async function listServicesByReflection(address: string, timeoutMs = 5000): Promise<string[]> {
  const response = await askReflection(address, { listServices: "*" }, timeoutMs);
  return (response.listServicesResponse?.service ?? []).map((s) => s.name).sort();
}

/**
 * The serialized FileDescriptorProtos reflection answers for a file name or a fully qualified
 * symbol (the file first, then its imports), as grpcurl would fetch them; rejects with the
 * reflection error (code and message) when the server has no such file or symbol.
 */
export async function fetchDescriptorsByReflection(
  address: string,
  query: { fileByFilename: string } | { fileContainingSymbol: string },
  timeoutMs = 5000,
): Promise<Uint8Array[]> {
  const response = await askReflection(address, query, timeoutMs);
  if (response.errorResponse) {
    throw Object.assign(new Error(response.errorResponse.errorMessage), { code: response.errorResponse.errorCode });
  }
  return (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) => new Uint8Array(bytes));
}
