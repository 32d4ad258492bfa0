// Pseudo-mask quality on the synthetic benchmark (issue 8 item 9): the filled box, the generator
// trained with the MIL loss alone (box supervision), full EXITS and its ablations (no CRF loss,
// no point dropout), all with the same extractor, retrieved points, model and budget; GrabCut from
// extreme points beside them (OpenCV from Debian, via the baselines bench).
// Usage: npm run bench:quality -- [--json FILE] [--images 200] [--seed 1] [--epochs 15]
//        [--extractor-epochs 15] [--threads 2] [--variants exits,mil_only,...] [--out DIR] [--no-grabcut]
//        [--config overrides.json]

import { spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "@exits/base";
import { type BinaryMask } from "@exits/dataset";
import {
  boxMasks,
  evaluateMasks,
  evaluatePoints,
  exportDataset,
  type MaskEvaluation,
  MaskPredictor,
  type MethodConfigOverrides,
  resolveMethodConfig,
  retrievePoints,
  sweepRetrieval,
  trainExtractor,
  trainGenerator,
} from "@exits/exits";
import { syntheticBenchmark } from "../synthetic-benchmark.js";

const { values } = parseArgs({
  options: {
    json: { type: "string" },
    images: { type: "string", default: "200" },
    seed: { type: "string", default: "1" },
    epochs: { type: "string", default: "15" },
    "extractor-epochs": { type: "string", default: "15" },
    threads: { type: "string", default: "2" },
    variants: { type: "string", default: "mil_only,exits,exits_no_crf,exits_no_dropout" },
    out: { type: "string" },
    "no-grabcut": { type: "boolean", default: false },
    config: { type: "string" },
  },
});

const VARIANTS: Record<string, MethodConfigOverrides["generator"]> = {
  mil_only: { supervision: "mil" },
  exits: {},
  exits_no_crf: { useCrf: false },
  exits_no_dropout: { usePointDropout: false },
};

const seed = Number(values.seed);
const images = Number(values.images);
const out = values.out ?? join(tmpdir(), `exits-quality-${Date.now()}`);
const { set, dir: dataDir } = await syntheticBenchmark(images, seed);
const runtime = { executionProvider: "cpu" as const, intraOpNumThreads: Number(values.threads) };
// --config FILE: JSON overrides of the method configuration (same shape as `exits --config`).
const fileOverrides: MethodConfigOverrides = values.config ? JSON.parse(await readFile(values.config, "utf8")) : {};
const base = resolveMethodConfig(
  fileOverrides,
  resolveMethodConfig({
    seed,
    extractor: { epochs: Number(values["extractor-epochs"]) },
    generator: { epochs: Number(values.epochs) },
  }),
);
const log = (s: string) => process.stderr.write(`${s}\n`);
let lastLine = 0;
const onProgress = (p: { stage: string; done: number; total: number; etaSeconds?: number }) => {
  if (Date.now() - lastLine < 10_000 && p.done < p.total) return;
  lastLine = Date.now();
  log(`  ${p.stage} ${p.done}/${p.total}, ETA ${p.etaSeconds === undefined ? "?" : Math.round(p.etaSeconds)} s`);
};

log(`${set.objects.length} objects; output ${out}`);
const t0 = performance.now();
const ext = await trainExtractor(set, base, { dir: join(out, "extractor"), runtime, onProgress });
const { points } = await retrievePoints(set, ext.parameters, base, { runtime });
const retrieval = evaluatePoints(set, points);
log(`extractor ${ext.run.seconds.toFixed(0)} s; retrieval ${JSON.stringify(retrieval)}`);
// The retrieval sweep on the same extractor (what `exits sweep` does): the configuration's
// retrieval defaults cite this recorded choice.
const sweep = await sweepRetrieval(set, ext.parameters, base, { runtime });
log(`sweep (${sweep.rule}): ${JSON.stringify(sweep.best)}`);

interface Row {
  miou: number;
  miou_instance: number;
  miou_separated: number;
  miou_separated_class: number | null;
  miou_small: number | null;
  miou_medium: number | null;
  miou_large: number | null;
  miou_small_class: number | null;
  miou_medium_class: number | null;
  miou_large_class: number | null;
  seconds?: number;
}
const row = (e: MaskEvaluation, seconds?: number): Row => ({
  miou: e.report.classAveragedMIoU!,
  miou_instance: e.report.instanceMIoU!,
  miou_separated: e.report.separated.mIoU!,
  miou_separated_class: e.classAveraged.separated,
  miou_small: e.report.bySize.small.mIoU,
  miou_medium: e.report.bySize.medium.mIoU,
  miou_large: e.report.bySize.large.mIoU,
  miou_small_class: e.classAveraged.small,
  miou_medium_class: e.classAveraged.medium,
  miou_large_class: e.classAveraged.large,
  ...(seconds === undefined ? {} : { seconds }),
});

const results: Record<string, Row> = { box: row(evaluateMasks(set, boxMasks(set))!) };
for (const name of values.variants.split(",")) {
  const overrides = VARIANTS[name];
  if (!overrides) throw new Error(`unknown variant ${name}; choose from ${Object.keys(VARIANTS).join(", ")}`);
  const c = resolveMethodConfig({ generator: overrides }, base);
  log(`${name}: training the generator`);
  const gen = await trainGenerator(set, points, c, {
    dir: join(out, name),
    encoder: ext.parameters,
    runtime,
    onProgress,
  });
  const predictor = await MaskPredictor.create(c, gen.teacher ?? gen.parameters, c.export.batch, { runtime });
  const masks = new Map<number, BinaryMask>();
  await mkdir(join(out, name), { recursive: true });
  await exportDataset(set, predictor, c, {
    output: join(out, name, "export.json"),
    manifest: { variant: name },
    onMask: (m) => masks.set(m.object.id, m.mask),
  });
  await predictor.release();
  results[name] = row(evaluateMasks(set, masks)!, gen.run.seconds);
  log(
    `${name}: mIoU ${(100 * results[name]!.miou).toFixed(1)} (separated ${(100 * results[name]!.miou_separated).toFixed(1)}) in ${gen.run.seconds.toFixed(0)} s`,
  );
}

let grabcut: Row | undefined;
if (!values["no-grabcut"]) {
  const jsonPath = join(out, "baselines.json");
  const r = spawnSync(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "./tools/register.mjs",
      "libs/dataset/bench/baselines.bench.ts",
      "--synthetic",
      dataDir,
      "--synthetic-images",
      String(images),
      "--seed",
      String(seed),
      "--coco",
      join(out, "no-coco"),
      "--json",
      jsonPath,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  if (r.status === 0) {
    const doc = JSON.parse(await readFile(jsonPath, "utf8"));
    const split = Object.values(doc.splits)[0] as { results: Record<string, { report: MaskEvaluation["report"] }> };
    const g = split.results["GrabCut (extreme points)"];
    if (g) {
      grabcut = {
        miou: g.report.classAveragedMIoU!,
        miou_instance: g.report.instanceMIoU!,
        miou_separated: g.report.separated.mIoU!,
        miou_separated_class: null,
        miou_small: g.report.bySize.small.mIoU,
        miou_medium: g.report.bySize.medium.mIoU,
        miou_large: g.report.bySize.large.mIoU,
        miou_small_class: null,
        miou_medium_class: null,
        miou_large_class: null,
      };
      results.grabcut_extreme_points = grabcut;
    }
  } else log("GrabCut baseline failed or OpenCV is missing: left out");
}

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? "  —  " : (100 * v).toFixed(1).padStart(5);
console.log("\nmIoU %                  class  inst   separated  small  medium large");
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(22)} ${pct(r.miou)} ${pct(r.miou_instance)} ${pct(r.miou_separated)}      ${pct(r.miou_small)} ${pct(r.miou_medium)} ${pct(r.miou_large)}`,
  );
}
const exits = results.exits;
const mil = results.mil_only;
const bars =
  exits && mil
    ? {
        overall_gain_over_mil: exits.miou - mil.miou,
        separated_gain_over_mil: exits.miou_separated - mil.miou_separated,
        exits_above_box: exits.miou > results.box!.miou && exits.miou_separated > results.box!.miou_separated,
        mil_above_box: mil.miou > results.box!.miou,
      }
    : undefined;
if (bars)
  console.log(
    `\nEXITS − MIL-only: ${(100 * bars.overall_gain_over_mil).toFixed(1)} points overall (bar ≥ 3), ${(100 * bars.separated_gain_over_mil).toFixed(1)} on separated (bar ≥ 5); EXITS above the box: ${bars.exits_above_box}`,
  );
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (values.json) {
  await writeFileAtomic(
    values.json,
    `${JSON.stringify({ command: `npm run bench:quality -- ${process.argv.slice(2).join(" ")}`, date: new Date().toISOString(), objects: set.objects.length, config: base, retrieval, sweep: { rule: sweep.rule, best: sweep.best, rows: sweep.rows }, results, bars, seconds: (performance.now() - t0) / 1000 }, null, 2)}\n`,
  );
}
