// Speed of the method's three heavy stages on the CPU (issue 8 item 11): crops per second of
// extractor training (MIL step), generator training (student + EMA teacher + CRF + AdamW + EMA in
// one ONNX graph) and export (inference + paste-back + RLE), against the same generator step in
// Debian's PyTorch (OpenBLAS) run by this script; then where the generator step's time goes
// (ONNX Runtime profile by operator).
// Usage: npm run bench:speed -- [--json FILE] [--images 200] [--threads 2] [--torch-iters 5]

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "@exits/base";
import {
  exportDataset,
  generatorTrainStep,
  gridOf,
  initGeneratorParams,
  MaskPredictor,
  type Progress,
  resolveMethodConfig,
  retrievePoints,
  trainExtractor,
  trainGenerator,
} from "@exits/exits";
import { type HostTensor, TrainStepRunner } from "@exits/runtime";
import { summariseOrtProfile } from "../graph/vit-bench-setup.js";
import { syntheticBenchmark } from "../synthetic-benchmark.js";

const { values } = parseArgs({
  options: {
    json: { type: "string" },
    images: { type: "string", default: "200" },
    threads: { type: "string", default: "2" },
    "torch-iters": { type: "string", default: "5" },
  },
});
const threads = Number(values.threads);
const images = Number(values.images);
const runtime = { executionProvider: "cpu" as const, intraOpNumThreads: threads };
const { set } = await syntheticBenchmark(images, 1);
const c = resolveMethodConfig({ extractor: { epochs: 1 }, generator: { epochs: 1 } });
const work = await mkdtemp(join(tmpdir(), "exits-speed-"));
const rate = () => {
  let last: Progress | undefined;
  return { on: (p: Progress) => (last = p), get: () => last?.itemsPerSecond ?? Number.NaN };
};
const log = (s: string) => process.stderr.write(`${s}\n`);

const ext = rate();
const extractor = await trainExtractor(set, c, { dir: join(work, "extractor"), runtime, onProgress: ext.on });
log(`extractor training: ${ext.get().toFixed(1)} crops/s`);
const { points } = await retrievePoints(set, extractor.parameters, c, { runtime });
const gen = rate();
const generator = await trainGenerator(set, points, c, {
  dir: join(work, "generator"),
  encoder: extractor.parameters,
  runtime,
  onProgress: gen.on,
});
log(`generator training: ${gen.get().toFixed(1)} crops/s`);
const predictor = await MaskPredictor.create(c, generator.parameters, c.export.batch, { runtime });
const exp = rate();
await exportDataset(set, predictor, c, { output: join(work, "export.json"), manifest: {}, onProgress: exp.on });
await predictor.release();
log(`export: ${exp.get().toFixed(1)} objects/s`);

// Where the generator step's time goes: the same step graph with ORT profiling, random batches.
const { grid, maskSize: R } = gridOf(c);
const S = c.crop.size;
const B = c.generator.batch;
const step = generatorTrainStep(c, B);
const prefix = join(work, "generator-step");
const runner = await TrainStepRunner.create(step, initGeneratorParams(c, 1), {
  config: { ...runtime, enableProfiling: true, profileFilePrefix: prefix },
});
const rnd = (n: number, p?: number) =>
  Float32Array.from({ length: n }, () => (p === undefined ? Math.random() : Math.random() < p ? 1 : 0));
const f32 = (data: Float32Array, shape: number[]): HostTensor => ({ dtype: "float32", shape, data });
const feeds = {
  images: f32(rnd(B * 3 * S * S), [B, 3, S, S]),
  teacher_images: f32(rnd(B * 3 * S * S), [B, 3, S, S]),
  crf_image: f32(rnd(B * 3 * R * R), [B, 3, R, R]),
  box: f32(rnd(B * R * R, 0.7), [B, R, R]),
  target: f32(rnd(B * grid * grid, 0.3), [B, grid, grid]),
  known: f32(rnd(B * grid * grid, 0.6), [B, grid, grid]),
  fallback: f32(rnd(B, 0.3), [B]),
  lambda_crf: f32(Float32Array.of(0.5), []),
};
for (let i = 0; i < 4; i++) await runner.run(feeds, 1e-4);
runner.graph.session.endProfiling();
await runner.release();
const profileFile = readdirSync(work).find((f) => f.startsWith("generator-step") && f.endsWith(".json"));
const profile = profileFile ? summariseOrtProfile(join(work, profileFile)) : undefined;

// PyTorch: the same generator step (bench/speed/generator_torch.py), OpenBLAS, this workplace's
// OpenBLAS core pins removed (they slow a current OpenBLAS, see bench/graph/README.md).
const { OPENBLAS_CORETYPE: _core, OPENBLAS_L2_SIZE: _l2, ...env } = process.env;
const args = [
  c.model.embedDim,
  c.model.numHeads,
  c.model.depth,
  S,
  c.crop.patch,
  c.crop.maskStride,
  c.model.decoderChannels,
  B,
  c.crf.iterations,
  threads,
  1,
  Number(values["torch-iters"]),
];
const py = spawnSync("/usr/bin/python3", [join(import.meta.dirname, "generator_torch.py"), ...args.map(String)], {
  encoding: "utf8",
  env,
});
const torch =
  py.status === 0
    ? (JSON.parse(py.stdout.trim().split("\n").pop()!) as { crops_per_second: number; step_ms: number; torch: string })
    : undefined;
if (!torch) log(`PyTorch reference unavailable: ${py.stderr?.split("\n").slice(-3).join(" ")}`);

const figures = {
  command: `npm run bench:speed -- ${process.argv.slice(2).join(" ")}`.trim(),
  date: new Date().toISOString(),
  shape: {
    crop: S,
    patch: c.crop.patch,
    embedDim: c.model.embedDim,
    depth: c.model.depth,
    heads: c.model.numHeads,
    mask: R,
    batch: B,
    crfIterations: c.crf.iterations,
    threads,
  },
  exits: {
    extractor_crops_per_second: ext.get(),
    generator_crops_per_second: gen.get(),
    export_objects_per_second: exp.get(),
  },
  torch: torch ?? null,
  generator_speedup_vs_torch: torch ? gen.get() / torch.crops_per_second : null,
  profile: profile
    ? {
        kernel_ms_per_step: profile.kernel_ms / 1,
        matmul_share: profile.matmul_ms / profile.kernel_ms,
        top: profile.ops.slice(0, 10),
      }
    : null,
};
console.log(`\n                         exits (ORT CPU)   PyTorch ${torch?.torch ?? "—"}`);
console.log(`extractor training       ${ext.get().toFixed(1).padStart(8)} crops/s`);
console.log(
  `generator training       ${gen.get().toFixed(1).padStart(8)} crops/s   ${torch ? torch.crops_per_second.toFixed(1).padStart(8) : "—"} crops/s   ratio ${figures.generator_speedup_vs_torch?.toFixed(2) ?? "—"}×`,
);
console.log(`export                   ${exp.get().toFixed(1).padStart(8)} objects/s`);
if (profile) {
  console.log(
    `\ngenerator step, ORT kernel time by operator (fastest of 4 runs per node): ${profile.kernel_ms.toFixed(1)} ms`,
  );
  for (const r of profile.ops.slice(0, 10))
    console.log(
      `  ${r.op.padEnd(22)} ${r.ms.toFixed(1).padStart(8)} ms  ${(100 * r.share).toFixed(1).padStart(5)} %  (${r.nodes} nodes)`,
    );
}
if (values.json) await writeFileAtomic(values.json, `${JSON.stringify(figures, null, 2)}\n`);
