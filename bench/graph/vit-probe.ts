// Probe: our ViT forward and training step (forward, backward, AdamW) timed in one process on
// onnxruntime-node's CPU provider, with an ORT-profile breakdown of kernel time by op type.
// The same model as `npm run bench:graph` (dim 192, 6 heads, 4 blocks, 256 patch tokens,
// batch 8, Dice loss on a per-patch mask head), without the PyTorch side, so lowering changes
// can be compared quickly and reproducibly:
//
//   node --conditions=source --import ./tools/register.mjs bench/graph/vit-probe.ts \
//     [--json FILE] [--iters N] [--warmup N] [--threads N] [--no-optimize] [--no-profile] [--profile DIR] [--spin]
//
// Forward and step are timed interleaved (fwd, step, fwd, step, ...) so machine load hits both
// alike; the reported figure is the median. `--no-optimize` lowers with `optimize: false`.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTrainStep } from "@exits/graph";
import { compileGraph, TrainStepRunner } from "@exits/runtime";
import {
  BENCH_SHAPE,
  benchBatch,
  benchInitialParams,
  benchLoss,
  benchSessionConfig,
  flagReader,
  forwardFeeds,
  summariseOrtProfile,
} from "./vit-bench-setup.js";

const args = process.argv.slice(2);
const flags = flagReader(args);
const flag = flags.value;
const threads = Number(flag("threads", "2"));
const iters = Number(flag("iters", "8"));
const warmup = Number(flag("warmup", "2"));
const jsonPath = flag("json");
const optimize = !flags.has("no-optimize");
const profile = !flags.has("no-profile");
const spin = flags.has("spin");
const keepProfile = flag("profile");

const shape = BENCH_SHAPE;

interface Runner {
  forward(): Promise<number>;
  step(): Promise<number>;
  release(): Promise<void>;
  modelBytes: { forward: number; step: number };
}

async function open(profilePrefix?: (kind: string) => string): Promise<Runner> {
  const options = (kind: string) => ({
    config: benchSessionConfig(threads, { enableMemPattern: true, allowSpinning: spin }, profilePrefix?.(kind)),
    lower: { optimize },
  });
  const initial = benchInitialParams();
  const batch = benchBatch();
  const fwd = await compileGraph({ loss: benchLoss() }, options("forward"));
  const trainStep = buildTrainStep({ loss: benchLoss(), adamw: { weightDecay: 0.05 } });
  const runner = await TrainStepRunner.create(trainStep, initial, options("train-step"));
  const fwdFeeds = forwardFeeds(initial, batch);
  return {
    modelBytes: { forward: fwd.model.bytes.length, step: runner.graph.model.bytes.length },
    async forward() {
      const out = await fwd.run(fwdFeeds);
      return out["loss"]!.data[0] as number;
    },
    async step() {
      const out = await runner.run(batch, 1e-4);
      return out["loss"]!.data[0] as number;
    },
    async release() {
      if (profilePrefix) {
        fwd.session.endProfiling();
        runner.graph.session.endProfiling();
      }
      await fwd.release();
      await runner.release();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const runner = await open();
  for (let i = 0; i < warmup; i++) {
    await runner.forward();
    await runner.step();
  }
  const fwdMs: number[] = [];
  const stepMs: number[] = [];
  let loss = Number.NaN;
  for (let i = 0; i < iters; i++) {
    let t0 = performance.now();
    await runner.forward();
    fwdMs.push(performance.now() - t0);
    t0 = performance.now();
    loss = await runner.step();
    stepMs.push(performance.now() - t0);
  }
  await runner.release();
  const forward = median(fwdMs);
  const step = median(stepMs);
  const figures: Record<string, unknown> = {
    command: `node --conditions=source --import ./tools/register.mjs bench/graph/vit-probe.ts ${args.join(" ")}`.trim(),
    date: new Date().toISOString(),
    shape,
    threads,
    optimize,
    iters,
    forward_ms: forward,
    forward_min_ms: Math.min(...fwdMs),
    step_ms: step,
    step_min_ms: Math.min(...stepMs),
    step_vs_forward: step / forward,
    last_loss: loss,
    model_bytes: runner.modelBytes,
  };
  console.log(
    `ViT probe (optimize ${optimize}, ${threads} threads, median of ${iters}): forward ${forward.toFixed(1)} ms ` +
      `(min ${Math.min(...fwdMs).toFixed(1)}), step ${step.toFixed(1)} ms (min ${Math.min(...stepMs).toFixed(1)}), ` +
      `step/forward ${(step / forward).toFixed(2)}×`,
  );
  if (profile) {
    const dir = keepProfile ?? mkdtempSync(join(tmpdir(), "vit-probe-"));
    mkdirSync(dir, { recursive: true });
    const prof = await open((kind) => join(dir, kind));
    for (let i = 0; i < 3; i++) {
      await prof.forward();
      await prof.step();
    }
    await prof.release();
    for (const kind of ["forward", "train-step"]) {
      const file = readdirSync(dir).find((f) => f.startsWith(kind));
      if (!file) continue;
      const b = summariseOrtProfile(join(dir, file));
      figures[`profile_${kind}`] = b;
      console.log(
        `  ${kind}: ${b.nodes} ORT nodes, kernels ${b.kernel_ms.toFixed(1)} ms at each node's fastest run ` +
          `(matrix products ${b.matmul_ms.toFixed(1)} ms, everything else ${b.other_ms.toFixed(1)} ms)`,
      );
      for (const r of b.ops.slice(0, 14))
        console.log(`    ${r.op.padEnd(22)} ${r.ms.toFixed(1).padStart(8)} ms  ${String(r.nodes).padStart(4)} nodes`);
    }
    if (!keepProfile) rmSync(dir, { recursive: true, force: true });
  }
  if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(figures, null, 2)}\n`);
}

await main();
