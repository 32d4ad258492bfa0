import { DEFAULT_GRPC_PORTS, type RunningService, startGrpcService } from "@exits/platform";
import { loadServiceSpec, type ServiceName } from "./service-registry.js";

/** Which peer each service calls, and the variable that names it (design.md, "Ports and adapters"). */
const PEERS: ReadonlyArray<readonly [ServiceName, string, ServiceName]> = [
  ["retrieval", "EXITS_SIMILARITY_ADDRESS", "similarity"],
  ["trainer", "EXITS_RETRIEVAL_ADDRESS", "retrieval"],
  ["mask", "EXITS_CRF_ADDRESS", "crf"],
  ["exporter", "EXITS_MASK_ADDRESS", "mask"],
];

/** Start order: every service after the peer it calls. */
const ORDER: readonly ServiceName[] = ["similarity", "crf", "retrieval", "mask", "trainer", "exporter"];

export interface AllServices {
  services: ReadonlyMap<ServiceName, RunningService>;
  /** "host:port" of each service's gRPC server. */
  addresses: Readonly<Record<ServiceName, string>>;
  shutdown(reason: string): Promise<void>;
}

/**
 * The six services in this process, wired to each other over real gRPC on `host`: retrieval
 * calls similarity, the trainer calls retrieval, mask calls CRF, the exporter calls mask. Ports
 * keep the default layout shifted to `basePort` (similarity at basePort, ..., exporter at
 * basePort + 5; metrics + 1000), or are picked free when `basePort` is 0 or unset. Each
 * service gets `env` plus its peer's address; what a Kubernetes deployment does with Services
 * and the chart's ConfigMap, in one process (tests, `exits serve all`).
 */
export async function startAllServices(
  env: Readonly<Record<string, string | undefined>>,
  options: { host?: string; basePort?: number } = {},
): Promise<AllServices> {
  const host = options.host ?? "127.0.0.1";
  const started = new Map<ServiceName, RunningService>();
  const addresses = {} as Record<ServiceName, string>;
  try {
    for (const name of ORDER) {
      const peerEnv: Record<string, string> = {};
      for (const [service, variable, peer] of PEERS) if (service === name) peerEnv[variable] = addresses[peer];
      const port = options.basePort ? options.basePort + DEFAULT_GRPC_PORTS[name] - DEFAULT_GRPC_PORTS.similarity : 0;
      const running = await startGrpcService(await loadServiceSpec(name), {
        ...env,
        EXITS_GRPC_HOST: host,
        EXITS_GRPC_PORT: String(port),
        EXITS_METRICS_PORT: options.basePort ? String(port + 1000) : "0",
        ...peerEnv,
      });
      started.set(name, running);
      addresses[name] = `${host.includes(":") ? `[${host}]` : host}:${running.grpcPort}`;
    }
  } catch (error) {
    for (const running of [...started.values()].reverse()) await running.shutdown("startup failed");
    throw error;
  }
  return {
    services: started,
    addresses,
    async shutdown(reason: string) {
      // Callers before callees: the exporter and trainer stop before the services they call.
      for (const name of [...ORDER].reverse()) await started.get(name)?.shutdown(reason);
    },
  };
}
