import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const reflectionProtoPath = join(
  dirname(require.resolve("@grpc/reflection/package.json")),
  "build/proto/grpc/reflection/v1/reflection.proto",
);

/** Lists the services a server advertises through `grpc.reflection.v1.ServerReflection`. */
export function listServicesByReflection(address: string, timeoutMs = 5000): Promise<string[]> {
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
    call.on("data", (response: { listServicesResponse?: { service: Array<{ name: string }> } }) => {
      resolve((response.listServicesResponse?.service ?? []).map((s) => s.name).sort());
      call.end();
    });
    call.on("error", (error) => reject(error));
    call.on("end", () => client.close());
    call.write({ listServices: "*" });
  });
}
