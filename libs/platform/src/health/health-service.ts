import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import { loadSync, type PackageDefinition, type ServiceDefinition } from "@grpc/proto-loader";

/** The official `grpc/health/v1/health.proto`, as shipped by grpc-health-check. */
export const HEALTH_PROTO_PATH: string = createRequire(import.meta.url)("grpc-health-check").protoPath;

export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

type WatchCall = grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>;

let healthDefinition: PackageDefinition | undefined;
export function healthPackageDefinition(): PackageDefinition {
  healthDefinition ??= loadSync(HEALTH_PROTO_PATH, { enums: String, defaults: true });
  return healthDefinition;
}

/**
 * The standard `grpc.health.v1.Health` service (Check and Watch). Unlike a plain status map it
 * can also end every open Watch stream: during shutdown those streams would otherwise hold the
 * server's drain open forever, since grpc-js waits for every call before it closes.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<WatchCall>>();

  constructor(serviceNames: readonly string[], initial: ServingStatus = "NOT_SERVING") {
    for (const name of ["", ...serviceNames]) this.statuses.set(name, initial);
  }

  setStatus(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const call of this.watchers.get(service) ?? []) call.write({ status });
  }

  setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) this.setStatus(name, status);
  }

  /** Ends every Watch stream with OK, after the watchers have seen the last status. */
  endWatches(): void {
    for (const calls of this.watchers.values()) for (const call of calls) call.end();
    this.watchers.clear();
  }

  addToServer(server: grpc.Server): void {
    const definition = healthPackageDefinition()["grpc.health.v1.Health"] as ServiceDefinition;
    server.addService(definition as unknown as grpc.ServiceDefinition, {
      check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined)
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        else callback(null, { status });
      },
      watch: (call: WatchCall) => {
        const service = call.request.service;
        const calls = this.watchers.get(service) ?? new Set<WatchCall>();
        this.watchers.set(service, calls);
        calls.add(call);
        call.on("cancelled", () => calls.delete(call));
        call.write({ status: this.statuses.get(service) ?? "SERVICE_UNKNOWN" });
      },
    });
  }
}
