import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { decodeRle, writeImage } from "@exits/dataset";
import { Rng } from "@exits/graph";
import type { MethodObject, ObjectSet } from "../data/object-set.js";
import { groundTruthRle } from "../evaluate/evaluate-masks.js";
import type { PipelineResult } from "../pipeline/run-pipeline.js";
import { duration, esc, pct, rate } from "./html-text.js";
import { lossChart } from "./loss-chart.js";
import { type ExtraRow, miouTable } from "./miou-table.js";
import { REPORT_CSS } from "./report-css.js";
import { maskPicture, PICTURE_COLOURS, pointsPicture } from "./report-pictures.js";

export type { ExtraRow } from "./miou-table.js";

export interface ReportOptions {
  title?: string;
  /** More rows for the mIoU table (e.g. GrabCut measured elsewhere). */
  extra?: ExtraRow[];
  /** Pictures per gallery (default 6). */
  pictures?: number;
}

const swatch = (c: readonly number[], shape = "sq") =>
  `<span class="sw ${shape}" style="background:rgb(${c.join(",")})"></span>`;

/**
 * The HTML report of a pipeline run: `outDir/report.html` beside its pictures `outDir/report/*.png`.
 * It shows what ran (dataset, configuration, time and throughput per stage), mIoU against the
 * filled box (overall, by size, separated; class average and instance mean), point-retrieval
 * precision and coverage, the loss curves, and pictures: the best and worst pseudo masks against
 * the ground truth and the retrieved points of a few objects. Without ground truth the tables and
 * rankings are left out and a random sample of masks is shown instead. A static page with inline
 * CSS and SVG and relative picture paths: it opens from disk, anywhere. Returns the HTML's path.
 */
export async function writePipelineReport(
  result: PipelineResult,
  set: ObjectSet,
  outDir: string,
  options: ReportOptions = {},
): Promise<string> {
  const pictureDir = join(outDir, "report");
  await mkdir(pictureDir, { recursive: true });
  const n = options.pictures ?? 6;
  const title = options.title ?? "exits: pseudo masks from extreme points";
  const ev = result.evaluation;
  const byId = new Map(set.objects.map((o) => [o.id, o]));
  const iouById = new Map((ev?.generator.scores ?? []).map((s) => [s.id, s]));
  const category = (o: MethodObject) => set.categories.get(o.categoryId)?.name ?? `category ${o.categoryId}`;

  const sections = [header(result, set, title)];
  if (ev) sections.push(miouTable(ev.box, ev.generator, options.extra ?? []));
  sections.push(retrievalSection(result));
  sections.push(
    `<h2>Training losses</h2><div class="charts">${lossChart("similarity extractor (MIL loss)", result.extractor.losses)}${lossChart("generator (student losses)", result.generator.losses)}</div>`,
  );

  const figure = (file: string, caption: string, w: number, h: number) =>
    `<figure><img src="report/${file}" width="${w}" height="${h}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  const caption = (o: MethodObject, more = "") => {
    const s = iouById.get(o.id);
    return `#${o.id} ${category(o)}${s ? ` · IoU ${pct(s.iou)} %` : ""}${s && s.parts > 1 ? ` · ${s.parts} parts` : ""}${more}`;
  };
  const maskFigure = async (o: MethodObject, file: string) => {
    const image = await set.pixels(o.imageId);
    const gt = ev ? groundTruthRle(set, o) : undefined;
    const mask = result.masks.get(o.id);
    const picture = maskPicture(image, o.points, mask, gt && decodeRle(gt));
    await writeImage(join(pictureDir, file), picture);
    return figure(
      file,
      caption(o, mask && !mask.data.some((v) => v !== 0) ? " · empty mask" : ""),
      picture.width,
      picture.height,
    );
  };
  const maskLegend = `${swatch(PICTURE_COLOURS.prediction)} pseudo mask${ev ? ` · ${swatch(PICTURE_COLOURS.truth, "sq edge")} ground-truth outline` : ""} · ${swatch(PICTURE_COLOURS.extreme, "dot")} extreme points`;

  if (ev) {
    const ranked = [...ev.generator.scores].sort((a, b) => b.iou - a.iou || (a.id ?? 0) - (b.id ?? 0));
    const best = ranked.slice(0, n);
    const worst = ranked.slice(Math.max(n, ranked.length - n)).reverse();
    for (const [name, list] of [
      ["best", best],
      ["worst", worst],
    ] as const) {
      const figures: string[] = [];
      for (const s of list) {
        const o = s.id === undefined ? undefined : byId.get(s.id);
        if (o) figures.push(await maskFigure(o, `${name}-${o.id}.png`));
      }
      if (figures.length)
        sections.push(
          `<h2>${name === "best" ? "Best" : "Worst"} ${figures.length} pseudo masks by IoU</h2><p class="legend">${maskLegend}</p><div class="gallery">${figures.join("")}</div>`,
        );
    }
  } else {
    const withMask = set.objects.filter((o) => result.masks.has(o.id));
    const figures: string[] = [];
    for (const o of sample(withMask, 2 * n, result.config.seed)) figures.push(await maskFigure(o, `mask-${o.id}.png`));
    if (figures.length)
      sections.push(
        `<h2>A random sample of pseudo masks</h2><p class="note">The annotation file has no ground truth, so masks are not scored or ranked.</p><p class="legend">${maskLegend}</p><div class="gallery">${figures.join("")}</div>`,
      );
  }

  const withPoints = result.points.filter((p) => byId.has(p.id) && p.foreground.length + p.background.length > 0);
  const pointFigures: string[] = [];
  for (const p of spread(withPoints, n)) {
    const o = byId.get(p.id)!;
    const picture = pointsPicture(await set.pixels(o.imageId), o.points, p);
    const file = `points-${o.id}.png`;
    await writeImage(join(pictureDir, file), picture);
    pointFigures.push(
      figure(
        file,
        caption(o, ` · ${p.foreground.length} FG / ${p.background.length} BG`),
        picture.width,
        picture.height,
      ),
    );
  }
  if (pointFigures.length)
    sections.push(
      `<h2>Retrieved points</h2><p class="legend">${swatch(PICTURE_COLOURS.foreground, "dot")} pseudo foreground · ${swatch(PICTURE_COLOURS.background, "dot")} pseudo background (patch centres of the canonical crop) · ${swatch(PICTURE_COLOURS.extreme, "dot")} extreme points · ${swatch(PICTURE_COLOURS.box, "sq edge")} box</p><div class="gallery">${pointFigures.join("")}</div>`,
    );

  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>${REPORT_CSS}</style></head>
<body>
${sections.join("\n")}
</body></html>
`;
  const path = join(outDir, "report.html");
  await writeFileAtomic(path, html);
  return path;
}

function header(result: PipelineResult, set: ObjectSet, title: string): string {
  const c = result.config;
  const grid = c.crop.size / c.crop.patch;
  const training = (t: { epochs: number; batch: number; lr: number }, steps: number) =>
    `${t.epochs} epochs × batch ${t.batch}, AdamW lr ${t.lr} (${steps} steps)`;
  const g = c.generator;
  const supervision =
    g.supervision === "mil"
      ? "MIL loss only (box supervision)"
      : `point loss${g.usePointDropout ? ` with point dropout ${c.retrieval.dropout}` : ""}${g.useCrf ? ` + CRF loss (λ ${g.lambdaCrf}, ${c.crf.iterations} mean-field iterations)` : ""}`;
  const thresholds =
    c.retrieval.mode === "fixed"
      ? `fixed thresholds τ_FG = ${c.retrieval.tauFg}, τ_BG = ${c.retrieval.tauBg} on N²·(π_f − π_b)`
      : `quantile thresholds: top ${pct(c.retrieval.fgFraction)} % / bottom ${pct(c.retrieval.bgFraction)} % of box patches`;
  const stages = [
    ["similarity extractor training", result.extractor.seconds, `${rate(result.extractor.cropsPerSecond)} crops/s`],
    ["point retrieval", result.retrieval.seconds, `${rate(result.objects / result.retrieval.seconds)} objects/s`],
    ["generator training", result.generator.seconds, `${rate(result.generator.cropsPerSecond)} crops/s`],
    ["export", result.export.seconds, `${rate(result.export.masksPerSecond)} masks/s`],
  ] as const;
  const total = stages.reduce((s, [, t]) => s + t, 0);
  const early =
    result.extractor.stoppedEarly || result.generator.stoppedEarly
      ? `<p class="warn">The wall-clock budget stopped ${[result.extractor.stoppedEarly && "extractor", result.generator.stoppedEarly && "generator"].filter(Boolean).join(" and ")} training before its last epoch.</p>`
      : "";
  return `<h1>${esc(title)}</h1>
<p class="meta">${esc(set.annotationsFile)} · ${result.objects} objects in ${set.images.size} images, ${set.categories.size} categories · seed ${c.seed}</p>
<div class="cols"><table class="kv">
<tr><th>extreme points</th><td>${esc(set.pointOrigin)}</td></tr>
<tr><th>crops</th><td>S = ${c.crop.size} px, patch ${c.crop.patch} (N = ${grid}, ${grid * grid} patches), mask R = ${c.crop.size / c.crop.maskStride}, inference margin ${c.crop.inferenceMargin}</td></tr>
<tr><th>model</th><td>ViT dim ${c.model.embedDim}, depth ${c.model.depth}, ${c.model.numHeads} heads, MLP ×${c.model.mlpRatio}; mask decoder ${c.model.decoderChannels} channels</td></tr>
<tr><th>extractor</th><td>${training(c.extractor, result.extractor.steps)}, MIL loss</td></tr>
<tr><th>retrieval</th><td>α = ${c.retrieval.alpha}, δ = ${c.retrieval.delta}, ${thresholds}</td></tr>
<tr><th>generator</th><td>${training(g, result.generator.steps)}; ${supervision}; EMA teacher ${g.emaMomentum}</td></tr>
<tr><th>export</th><td>${esc(result.paths.export)}<br><span class="note">${esc(result.paths.exportManifest)}</span></td></tr>
</table>
<table class="num time"><thead><tr><th>stage</th><th>time</th><th>throughput</th></tr></thead><tbody>
${stages.map(([name, t, r]) => `<tr><th scope="row">${name}</th><td>${duration(t)}</td><td>${r}</td></tr>`).join("\n")}
<tr class="total"><th scope="row">total</th><td>${duration(total)}</td><td></td></tr>
</tbody></table></div>${early}`;
}

function retrievalSection(result: PipelineResult): string {
  const rr = result.retrieval.report;
  const fg = result.points.reduce((s, p) => s + p.foreground.length, 0);
  const bg = result.points.reduce((s, p) => s + p.background.length, 0);
  const withPoints = `${result.retrieval.objectsWithPoints} / ${result.objects}`;
  if (!rr)
    return `<h2>Point retrieval</h2><p>${withPoints} objects received pseudo points (${fg} foreground, ${bg} background). Without ground truth their precision and coverage cannot be measured.</p>`;
  return `<h2>Point retrieval</h2>
<table class="num"><thead><tr><th>FG precision</th><th>BG precision</th><th>coverage</th><th>objects with points</th><th>FG / BG points</th></tr></thead>
<tbody><tr><td>${pct(rr.foregroundPrecision)} %</td><td>${pct(rr.backgroundPrecision)} %</td><td>${pct(rr.coverage)} %</td><td>${withPoints}</td><td>${rr.foreground} / ${rr.background}</td></tr></tbody></table>
<p class="note">FG precision: share of pseudo-foreground points inside the ground-truth mask; BG precision: share of pseudo-background points outside it; coverage: share of the box patches that received a pseudo label; all pooled over objects. Seeds (extreme points moved inward by δ, patches outside the box) are not counted; points are retrieved once per object on its canonical crop.</p>`;
}

/** `k` items at random (seeded, so a report is reproducible), in their original order. */
function sample<T>(items: readonly T[], k: number, seed: number): T[] {
  const rng = new Rng(seed);
  const index = items.map((_, i) => i);
  for (let i = index.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [index[i], index[j]] = [index[j]!, index[i]!];
  }
  return index
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** `k` items evenly spread over the list. */
function spread<T>(items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  return Array.from({ length: k }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / k)]!);
}
