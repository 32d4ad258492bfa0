import type { PipelineResult } from "@exits/exits";

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? "  n/a" : `${(100 * v).toFixed(1).padStart(5)}`;

/** The end of a pipeline run on stdout: where everything is and the headline figures. */
export function printSummary(r: PipelineResult & { report?: string }): void {
  const lines = [
    "",
    `export      ${r.paths.export}`,
    `manifest    ${r.paths.exportManifest}`,
    `models      ${r.paths.extractor}, ${r.paths.generator}`,
  ];
  if (r.report) lines.push(`report      ${r.report}`);
  if (r.evaluation) {
    const g = r.evaluation.generator;
    const b = r.evaluation.box;
    lines.push(
      "",
      "mIoU %              class-avg  instance  separated  small  medium  large",
      `exits generator       ${pct(g.report.classAveragedMIoU)}     ${pct(g.report.instanceMIoU)}     ${pct(g.report.separated.mIoU)}  ${pct(g.report.bySize.small.mIoU)}  ${pct(g.report.bySize.medium.mIoU)}  ${pct(g.report.bySize.large.mIoU)}`,
      `filled box            ${pct(b.report.classAveragedMIoU)}     ${pct(b.report.instanceMIoU)}     ${pct(b.report.separated.mIoU)}  ${pct(b.report.bySize.small.mIoU)}  ${pct(b.report.bySize.medium.mIoU)}  ${pct(b.report.bySize.large.mIoU)}`,
    );
  }
  const rr = r.retrieval.report;
  if (rr)
    lines.push(
      "",
      `retrieval   FG precision ${pct(rr.foregroundPrecision)} %  BG precision ${pct(rr.backgroundPrecision)} %  coverage ${pct(rr.coverage)} %`,
    );
  if (r.extractor.stoppedEarly || r.generator.stoppedEarly)
    lines.push("", "note: the wall-clock budget stopped training early; figures are for the shortened schedule");
  process.stdout.write(`${lines.join("\n")}\n`);
}
