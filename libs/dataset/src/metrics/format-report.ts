import type { MaskMetricsReport } from "./mask-metrics.js";
import type { PointRetrievalReport } from "./point-metrics.js";

const pct = (v: number | null) => (v === null ? "—" : (100 * v).toFixed(1));

/** Left column left-aligned, the others right-aligned, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The mask report as a table (IoU in percent): summary rows, then one row per category. */
export function formatMaskReport(report: MaskMetricsReport, options: { perCategory?: boolean } = {}): string {
  const rows: string[][] = [
    ["mIoU (class-averaged, MAL)", String(report.count), pct(report.classAveragedMIoU)],
    ["mIoU (instance mean)", String(report.count), pct(report.instanceMIoU)],
    ["small (box < 32²)", String(report.bySize.small.count), pct(report.bySize.small.mIoU)],
    ["medium (32²–96²)", String(report.bySize.medium.count), pct(report.bySize.medium.mIoU)],
    ["large (> 96²)", String(report.bySize.large.count), pct(report.bySize.large.mIoU)],
    ["separated (≥ 2 parts, 8-conn.)", String(report.separated.count), pct(report.separated.mIoU)],
    ["connected (1 part)", String(report.connected.count), pct(report.connected.mIoU)],
  ];
  if (options.perCategory ?? true) {
    for (const c of report.perCategory)
      rows.push([`  ${c.name ?? `category ${c.categoryId}`}`, String(c.count), pct(c.mIoU)]);
  }
  return formatTable(["masks", "n", "mIoU %"], rows);
}

/** The point-retrieval report as a table (percentages). */
export function formatPointReport(report: PointRetrievalReport): string {
  return formatTable(
    ["points", "n", "%"],
    [
      ["pseudo-FG precision (inside GT)", String(report.foreground), pct(report.foregroundPrecision)],
      ["pseudo-BG precision (outside GT)", String(report.background), pct(report.backgroundPrecision)],
      ["coverage (labelled / box points)", String(report.boxPoints), pct(report.coverage)],
    ],
  );
}
