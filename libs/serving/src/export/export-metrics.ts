import { Counter, Histogram, type Registry } from "prom-client";

/** The exporter's own metrics (job counts and progress come from the job framework's). */
export interface ExportMetrics {
  readonly annotations: Counter<"outcome">;
  readonly images: Counter;
  readonly maskSeconds: Histogram;
}

const byRegistry = new WeakMap<Registry, ExportMetrics>();

/** Registered once per registry (several services or tests may share one process). */
export function exportMetrics(registry: Registry): ExportMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const metrics: ExportMetrics = {
    annotations: new Counter({
      name: "exits_export_annotations_total",
      help: "Annotations processed by export jobs, by outcome (exported or skipped)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    images: new Counter({
      name: "exits_export_images_total",
      help: "Images whose annotations an export job finished",
      registers: [registry],
    }),
    maskSeconds: new Histogram({
      name: "exits_export_mask_seconds",
      help: "Wall time of one batch of pseudo masks (crop, generator, paste-back), in seconds",
      buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      registers: [registry],
    }),
  };
  metrics.annotations.inc({ outcome: "exported" }, 0);
  metrics.annotations.inc({ outcome: "skipped" }, 0);
  byRegistry.set(registry, metrics);
  return metrics;
}
