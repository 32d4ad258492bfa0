import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Buckets from 1 ms to 5 min: mask inference is tens of ms, training RPCs return at once, exports stream for minutes. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** One service's Prometheus registry: process metrics plus per-RPC latency and counts. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly rpcLatency: Histogram<"method" | "code">;
  readonly rpcStarted: Counter<"method">;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, prefix: "exits_" });
    renameTotalGauges(this.registry);
    this.rpcLatency = new Histogram({
      name: "exits_grpc_server_handling_seconds",
      help: "Time from the start of an RPC to its final status, by full method name and gRPC status code",
      labelNames: ["method", "code"],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.rpcStarted = new Counter({
      name: "exits_grpc_server_started_total",
      help: "RPCs started, by full method name",
      labelNames: ["method"],
      registers: [this.registry],
    });
  }
}

/**
 * prom-client names three default gauges `*_total`, a suffix Prometheus reserves for counters
 * (rate() over them is meaningless, and OpenMetrics parsers reject it). Re-registered as
 * `*_all`: the count over every type, beside prom-client's per-type gauge of the bare name.
 */
function renameTotalGauges(registry: Registry): void {
  for (const kind of ["resources", "handles", "requests"]) {
    const oldName = `exits_nodejs_active_${kind}_total`;
    const original = registry.getSingleMetric(oldName);
    if (!original) continue;
    registry.removeSingleMetric(oldName);
    new Gauge({
      name: `exits_nodejs_active_${kind}_all`,
      help: `Number of active ${kind}, all types together (prom-client's ${oldName.replace("exits_", "")})`,
      registers: [registry],
      async collect() {
        const { values } = await original.get();
        this.set(values[0]?.value ?? 0);
      },
    });
  }
}
