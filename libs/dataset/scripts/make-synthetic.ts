// Writes a synthetic benchmark (images + COCO JSON with visible masks and extreme points).
// Usage (from the repo root):
//   node --conditions=source --import ./tools/register.mjs libs/dataset/scripts/make-synthetic.ts \
//     --out DIR --images N --seed S [--width 256] [--height 256] [--format png|jpg] [--split-share 0.3]
import { parseArgs } from "node:util";
import { writeSyntheticDataset } from "../src/synthetic/synthetic-dataset.js";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    images: { type: "string" },
    seed: { type: "string", default: "0" },
    width: { type: "string", default: "256" },
    height: { type: "string", default: "256" },
    format: { type: "string", default: "png" },
    "split-share": { type: "string" },
    "min-objects": { type: "string" },
    "max-objects": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

function int(name: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

if (!values.out || values.images === undefined) {
  console.error("usage: make-synthetic.ts --out DIR --images N --seed S [--width W] [--height H] [--format png|jpg]");
  process.exit(2);
}
if (values.format !== "png" && values.format !== "jpg") throw new Error("--format must be png or jpg");
const scene: Record<string, number> = { width: int("width", values.width), height: int("height", values.height) };
if (values["split-share"] !== undefined) scene.splitShare = Number(values["split-share"]);
if (values["min-objects"] !== undefined) scene.minObjects = int("min-objects", values["min-objects"]);
if (values["max-objects"] !== undefined) scene.maxObjects = int("max-objects", values["max-objects"]);

const started = performance.now();
const summary = await writeSyntheticDataset({
  out: values.out,
  images: int("images", values.images),
  seed: int("seed", values.seed),
  format: values.format,
  scene,
  onImage: (done, total) => {
    if (!values.quiet && (done % 100 === 0 || done === total)) process.stderr.write(`\r${done}/${total} images`);
  },
});
if (!values.quiet) process.stderr.write("\n");
console.log(JSON.stringify({ ...summary, seconds: Math.round((performance.now() - started) / 100) / 10 }, null, 2));
