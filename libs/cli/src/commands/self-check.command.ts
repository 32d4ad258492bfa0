import {
  checkHealth,
  listServicesByReflection,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import { loadServiceSpec, SERVICE_NAMES } from "../service-registry.js";

interface CheckRow {
  service: string;
  grpcPort: number;
  metricsPort: number;
  health: string;
  reflection: string;
  metrics: string;
}

/**
 * `exits self-check`: starts all six services in this process on free loopback ports, asks each
 * for health, reflection and /metrics the way a client and Prometheus would, prints a table and
 * stops them again. Exit code 1 when any check fails.
 */
export async function selfCheckCommand(): Promise<boolean> {
  const env = {
    ...process.env,
    EXITS_GRPC_HOST: "127.0.0.1",
    EXITS_GRPC_PORT: "0",
    EXITS_METRICS_PORT: "0",
    EXITS_LOG_LEVEL: process.env.EXITS_LOG_LEVEL ?? "warn",
  };
  const running: RunningService[] = [];
  const rows: CheckRow[] = [];
  let ok = true;
  try {
    for (const name of SERVICE_NAMES) {
      const spec = await loadServiceSpec(name);
      const service = await startGrpcService(spec, env);
      running.push(service);
      const address = `127.0.0.1:${service.grpcPort}`;
      const health = await checkHealth(address, spec.proto.services[0]).catch((e: Error) => `error: ${e.message}`);
      const advertised = await listServicesByReflection(address).catch(() => [] as string[]);
      const reflection = spec.proto.services.every((s) => advertised.includes(s)) ? "lists service" : "MISSING";
      const exposition = await scrapeMetrics("127.0.0.1", service.metricsPort).catch(() => "");
      const healthChecks = metricSample(exposition, "exits_grpc_server_handling_seconds_count", {
        method: "/grpc.health.v1.Health/Check",
        code: "OK",
      });
      const metrics = healthChecks === 1 ? "histogram ok" : "MISSING";
      if (health !== "SERVING" || reflection !== "lists service" || metrics !== "histogram ok") ok = false;
      rows.push({
        service: name,
        grpcPort: service.grpcPort,
        metricsPort: service.metricsPort,
        health,
        reflection,
        metrics,
      });
    }
  } finally {
    await Promise.all(running.map((service) => service.shutdown("self-check done")));
  }
  console.table(rows);
  console.log(ok ? "self-check passed: all six services serve health, reflection and /metrics" : "self-check FAILED");
  return ok;
}
