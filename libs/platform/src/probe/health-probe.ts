import * as grpc from "@grpc/grpc-js";
import { healthPackageDefinition, type ServingStatus } from "../health/health-service.js";

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: ServingStatus }) => void,
  ): void;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: ServingStatus }>;
}

let healthClientCtor: grpc.ServiceClientConstructor | undefined;
function healthClient(address: string): HealthClient {
  if (!healthClientCtor) {
    const definition = grpc.loadPackageDefinition(healthPackageDefinition()) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    healthClientCtor = definition.grpc.health.v1.Health;
  }
  return new healthClientCtor(address, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

/** Asks a server's standard `grpc.health.v1.Health/Check` for one service ("" = the whole server). */
export function checkHealth(address: string, service = "", timeoutMs = 5000): Promise<ServingStatus> {
  const client = healthClient(address);
  return new Promise<ServingStatus>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response?.status ?? "UNKNOWN");
    });
  });
}

/**
 * Follows `grpc.health.v1.Health/Watch`: calls `onStatus` with every status the server sends
 * until the returned function is called or the stream ends.
 */
export function watchHealth(address: string, service: string, onStatus: (status: ServingStatus) => void): () => void {
  const client = healthClient(address);
  const stream = client.watch({ service });
  stream.on("data", (message) => onStatus(message.status));
  stream.on("error", () => client.close());
  stream.on("end", () => client.close());
  return () => {
    stream.cancel();
    client.close();
  };
}
