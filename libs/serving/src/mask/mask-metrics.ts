import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Objects per graph run: the buckets the generator is compiled for, and the sizes between. */
const BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64];
const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RUN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LOAD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The mask service's own metrics (the platform adds per-RPC latency and counts). */
export class MaskMetrics {
  readonly masks: Counter;
  readonly batchSize: Histogram;
  readonly queueDepth: Gauge;
  readonly queueWait: Histogram;
  readonly modelLoad: Histogram;
  readonly onnxRun: Histogram<"bucket">;
  readonly dropped: Counter<"reason">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.masks = new Counter({ name: "exits_mask_masks_total", help: "Pseudo masks produced", registers });
    this.batchSize = new Histogram({
      name: "exits_mask_batch_size",
      help: "Objects per generator graph run (before padding to the batch bucket)",
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: "exits_mask_queue_depth",
      help: "Objects queued for the generator, not yet running",
      registers,
    });
    this.queueWait = new Histogram({
      name: "exits_mask_queue_wait_seconds",
      help: "Time an object waited in the batching queue before its graph run started",
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.modelLoad = new Histogram({
      name: "exits_model_load_seconds",
      help: "Time to load one generator version (weights read and hashed)",
      buckets: LOAD_BUCKETS,
      registers,
    });
    this.onnxRun = new Histogram({
      name: "exits_onnx_run_seconds",
      help: "ONNX Runtime generator runs (input packing included), by batch bucket",
      labelNames: ["bucket"],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.dropped = new Counter({
      name: "exits_mask_dropped_total",
      help: "Objects dropped from the queue before computing, because their call's deadline passed or it was cancelled",
      labelNames: ["reason"],
      registers,
    });
  }
}
