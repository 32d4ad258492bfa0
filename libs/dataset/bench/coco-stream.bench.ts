// Streaming COCO reader vs plain JSON.parse (and stream-json's token pipeline) on a generated
// train2017-sized file. Each reader runs in its own child process so peak RSS is its own.
//
//   node --conditions=source --import ./tools/register.mjs libs/dataset/bench/coco-stream.bench.ts \
//     [--images 118287] [--annotations 860001] [--file PATH] [--modes stream,json-parse,copy[,stream-json]] [--json OUT]
// stream-json (token pipeline, ≈ 2 MB/s here) is opt-in: at full size it takes minutes.
//
// "copy" reads with the streaming reader and rewrites every annotation with CocoWriter (streaming,
// atomic). Prints seconds, MB/s and peak RSS per mode and the ratios stream / JSON.parse.
import { spawnSync } from "node:child_process";
import { createReadStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readCocoAnnotations, readCocoBatches, readCocoDataset } from "../src/coco/coco-reader.js";
import { CocoWriter } from "../src/coco/coco-writer.js";
import { writeFakeCocoFile } from "../src/coco/fake-coco.testing.js";

interface Tally {
  images: number;
  annotations: number;
  categories: number;
  idSum: number;
  coordinates: number;
}
interface Run extends Tally {
  mode: string;
  seconds: number;
  maxRssMB: number;
}

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "118287" },
    annotations: { type: "string", default: "860001" },
    file: { type: "string" },
    modes: { type: "string", default: "stream,json-parse,copy" },
    json: { type: "string" },
    child: { type: "string" },
  },
});

function tallyAnnotation(t: Tally, a: { id: number; segmentation?: unknown }) {
  t.annotations++;
  t.idSum += a.id;
  if (Array.isArray(a.segmentation)) for (const p of a.segmentation) t.coordinates += p.length;
}

async function runChild(mode: string, file: string): Promise<Tally> {
  const t: Tally = { images: 0, annotations: 0, categories: 0, idSum: 0, coordinates: 0 };
  if (mode === "stream") {
    for await (const b of readCocoBatches(file)) {
      if (b.section === "images") t.images += b.items.length;
      else if (b.section === "categories") t.categories += b.items.length;
      else if (b.section === "annotations") for (const a of b.items) tallyAnnotation(t, a);
    }
  } else if (mode === "json-parse") {
    const doc = JSON.parse(readFileSync(file, "utf8"));
    t.images = doc.images.length;
    t.categories = doc.categories.length;
    for (const a of doc.annotations) tallyAnnotation(t, a);
  } else if (mode === "stream-json") {
    const { parser } = await import("stream-json");
    const { pick } = await import("stream-json/filters/pick.js");
    const { streamArray } = await import("stream-json/streamers/stream-array.js");
    const chain = (await import("stream-chain")).default;
    for (const section of ["images", "annotations", "categories"] as const) {
      const pipeline = chain([createReadStream(file), parser(), pick({ filter: section }), streamArray()]);
      for await (const { value } of pipeline as AsyncIterable<{ value: { id: number; segmentation?: unknown } }>) {
        if (section === "annotations") tallyAnnotation(t, value);
        else t[section]++;
      }
    }
  } else if (mode === "copy") {
    // Streaming read and streaming, atomic write of every annotation: the writer's memory at scale.
    const dataset = await readCocoDataset(file);
    t.images = dataset.images.length;
    t.categories = dataset.categories.length;
    const out = file.replace(/\.json$/, ".copy.json");
    const writer = await CocoWriter.open(out, dataset);
    for await (const a of readCocoAnnotations(file)) {
      tallyAnnotation(t, a);
      await writer.write(a);
    }
    await writer.close();
    rmSync(out);
  } else throw new Error(`unknown mode ${mode}`);
  return t;
}

if (args.child) {
  const start = performance.now();
  const tally = await runChild(args.child, args.file!);
  const seconds = (performance.now() - start) / 1000;
  const run: Run = { mode: args.child, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, ...tally };
  process.stdout.write(`${JSON.stringify(run)}\n`);
  process.exit(0);
}

const images = Number(args.images);
const annotations = Number(args.annotations);
const file = args.file ?? `/tmp/exits-fake-coco-${images}-${annotations}.json`;
if (!existsSync(file)) {
  const start = performance.now();
  await writeFakeCocoFile(file, { images, annotations, seed: 1 });
  console.log(`generated ${file} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}
const sizeMB = statSync(file).size / 1e6;
console.log(`file ${file}: ${sizeMB.toFixed(1)} MB (${images} images, ${annotations} annotations requested)`);

const runs: Run[] = [];
for (const mode of args.modes!.split(",")) {
  // JSON.parse of a ~450 MB file needs more than Node's default heap: give it room to finish.
  const heap = mode === "json-parse" ? ["--max-old-space-size=12000"] : [];
  const child = spawnSync(
    process.execPath,
    [...heap, ...process.execArgv, fileURLToPath(import.meta.url), "--child", mode, "--file", file],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) {
    console.log(`${mode}: failed (exit ${child.status}) ${child.stderr.slice(-400)}`);
    continue;
  }
  const run = JSON.parse(child.stdout.trim().split("\n").pop()!) as Run;
  runs.push(run);
  console.log(
    `${mode.padEnd(11)} ${run.seconds.toFixed(2).padStart(7)} s  ${(sizeMB / run.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${run.maxRssMB.toFixed(0).padStart(6)} MB  (${run.annotations} annotations, ${run.images} images, ${run.categories} categories)`,
  );
}
const base = runs.find((r) => r.mode === "json-parse");
const ours = runs.find((r) => r.mode === "stream");
const agree = runs.every(
  (r) => r.idSum === runs[0]!.idSum && r.coordinates === runs[0]!.coordinates && r.annotations === runs[0]!.annotations,
);
console.log(`all readers saw identical annotations: ${agree}`);
const ratios =
  base && ours
    ? { timeStreamOverJsonParse: ours.seconds / base.seconds, rssStreamOverJsonParse: ours.maxRssMB / base.maxRssMB }
    : undefined;
if (ratios) {
  console.log(
    `stream / JSON.parse: time ×${ratios.timeStreamOverJsonParse.toFixed(2)}, peak RSS ×${ratios.rssStreamOverJsonParse.toFixed(3)}`,
  );
}
if (args.json) {
  const report = { file, sizeMB, node: process.version, runs, ratios, agree };
  writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
}
if (!agree) process.exit(1);
