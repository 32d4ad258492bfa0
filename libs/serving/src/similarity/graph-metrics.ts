import { Counter, Histogram, type Registry } from "prom-client";

/** Run-time buckets: a tiny test graph takes ~1 ms, a ViT-S batch on CPU seconds. */
const RUN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LOAD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One metric per registry even when two engines (similarity in process inside retrieval) share it. */
function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * The compute metrics the stateless services share: ONNX Runtime run time by graph, graph
 * compilation time, model load time, and objects per graph run.
 */
export class GraphMetrics {
  readonly runSeconds: Histogram<"graph">;
  readonly compileSeconds: Histogram<"graph">;
  readonly modelLoadSeconds: Histogram;
  readonly batchSize: Histogram<"graph">;

  constructor(registry: Registry) {
    this.runSeconds = once(
      registry,
      "exits_onnx_run_seconds",
      () =>
        new Histogram({
          name: "exits_onnx_run_seconds",
          help: "ONNX Runtime session.run time per graph run, by graph",
          labelNames: ["graph"],
          buckets: RUN_BUCKETS,
          registers: [registry],
        }),
    );
    this.compileSeconds = once(
      registry,
      "exits_graph_compile_seconds",
      () =>
        new Histogram({
          name: "exits_graph_compile_seconds",
          help: "Time to lower a graph to ONNX and open its session (once per model version, graph and batch bucket)",
          labelNames: ["graph"],
          buckets: LOAD_BUCKETS,
          registers: [registry],
        }),
    );
    this.modelLoadSeconds = once(
      registry,
      "exits_model_load_seconds",
      () =>
        new Histogram({
          name: "exits_model_load_seconds",
          help: "Time to load one model version (weights read and hashed)",
          buckets: LOAD_BUCKETS,
          registers: [registry],
        }),
    );
    this.batchSize = once(
      registry,
      "exits_graph_batch_size",
      () =>
        new Histogram({
          name: "exits_graph_batch_size",
          help: "Objects in one graph run (before padding to the batch bucket), by graph",
          labelNames: ["graph"],
          buckets: [1, 2, 4, 8, 16, 32, 64],
          registers: [registry],
        }),
    );
  }

  /** A counter registered once per registry. */
  static counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
    return once(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
  }
}
