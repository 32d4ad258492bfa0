import type { GroupScore } from "@exits/dataset";
import type { MaskEvaluation } from "../evaluate/evaluate-masks.js";
import { esc, pct } from "./html-text.js";

/**
 * A further row of the mIoU table, measured elsewhere (e.g. GrabCut from the extreme points).
 * `miou` is the class-averaged mIoU and `separated` the class average on separated objects
 * (MAL's protocol, like the generator's row); with `evaluation` every column is filled from it.
 */
export interface ExtraRow {
  label: string;
  miou: number | null;
  separated: number | null;
  evaluation?: MaskEvaluation;
}

type Cells = (number | null)[];

/** The ten columns, in the header's order. */
function cells(e: MaskEvaluation): Cells {
  const r = e.report;
  const g = (s: GroupScore) => s.mIoU;
  return [
    r.classAveragedMIoU,
    r.instanceMIoU,
    g(r.bySize.small),
    g(r.bySize.medium),
    g(r.bySize.large),
    e.classAveraged.small,
    e.classAveraged.medium,
    e.classAveraged.large,
    g(r.separated),
    e.classAveraged.separated,
  ];
}

const row = (label: string, values: Cells, cls = "") =>
  `<tr${cls ? ` class="${cls}"` : ""}><th scope="row">${esc(label)}</th>${values.map((v) => `<td>${pct(v)}</td>`).join("")}</tr>`;

function gainRow(values: Cells, reference: Cells): string {
  const tds = values.map((v, i) => {
    const ref = reference[i];
    if (v === null || ref === null || ref === undefined) return "<td>—</td>";
    const d = 100 * (v - ref);
    return `<td class="${d >= 0 ? "up" : "down"}">${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(1)}</td>`;
  });
  return `<tr class="gain"><th scope="row">generator − box (points)</th>${tds.join("")}</tr>`;
}

/**
 * The mIoU table of method §6: the filled box, the generator (highlighted, with its gain over the
 * box in points) and any extra rows; overall, by size and on separated objects, each as MAL's
 * class average and as the instance mean.
 */
export function miouTable(box: MaskEvaluation, generator: MaskEvaluation, extra: readonly ExtraRow[]): string {
  const r = box.report;
  const counts = [
    r.count,
    r.count,
    r.bySize.small.count,
    r.bySize.medium.count,
    r.bySize.large.count,
    r.bySize.small.count,
    r.bySize.medium.count,
    r.bySize.large.count,
    r.separated.count,
    r.separated.count,
  ];
  const boxCells = cells(box);
  const genCells = cells(generator);
  const extraRows = extra.map((x) =>
    row(
      x.label,
      x.evaluation ? cells(x.evaluation) : [x.miou, null, null, null, null, null, null, null, null, x.separated],
    ),
  );
  return `<h2>Pseudo-mask mIoU (%)</h2>
<table class="num miou">
<thead>
<tr><th rowspan="2"></th><th colspan="2">overall</th><th colspan="3" class="group">by size · instance mean</th><th colspan="3" class="group">by size · class average</th><th colspan="2" class="group">separated</th></tr>
<tr><th>class avg.</th><th>instance</th><th class="group">small</th><th>medium</th><th>large</th><th class="group">small</th><th>medium</th><th>large</th><th class="group">instance</th><th>class avg.</th></tr>
</thead>
<tbody>
<tr class="count"><th scope="row">objects</th>${counts.map((c) => `<td>${c}</td>`).join("")}</tr>
${row("filled box (baseline)", boxCells)}
${row("exits generator", genCells, "exits")}
${gainRow(genCells, boxCells)}
${extraRows.join("\n")}
</tbody></table>
<p class="note">MAL's protocol: the IoU of each full-image pseudo mask with its ground truth, averaged within each category, then over categories (“class avg.”); “instance” is the plain mean over objects. Sizes by ground-truth box area: small &lt; 32², medium 32²–96², large &gt; 96². Separated: the ground truth has ≥ 2 connected parts. “—”: no object in that group, or not measured.</p>`;
}
