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
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTrainStep, input, sigmoid, type Tensor } from "@exits/graph";
import { dice, initVitParams, patchMaskHead, renderDiscs, vitConfig, vitEncoder, vitParamSpecs } from "@exits/models";
import { toOnnx } from "@exits/onnx";
import * as ort from "onnxruntime-node";

const args = process.argv.slice(2);
const flag = (name: string, fallback?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const threads = Number(flag("threads", "2"));
const iters = Number(flag("iters", "8"));
const warmup = Number(flag("warmup", "2"));
const jsonPath = flag("json");
const optimize = !args.includes("--no-optimize");
const profile = !args.includes("--no-profile");
const spin = args.includes("--spin");
const keepProfile = flag("profile");

const shape = { dim: 192, heads: 6, depth: 4, img: 256, patch: 16, batch: 8 };
const cfg = vitConfig({
  imgSize: shape.img,
  patchSize: shape.patch,
  embedDim: shape.dim,
  depth: shape.depth,
  numHeads: shape.heads,
});
const n = (shape.img / shape.patch) ** 2;

function model(): Tensor {
  const images = input("images", [shape.batch, 3, shape.img, shape.img]);
  const target = input("target", [shape.batch, n]);
  return dice(sigmoid(patchMaskHead(vitEncoder(images, cfg).patchTokens)), target);
}

function sessionOptions(profilePrefix?: string): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    enableCpuMemArena: true,
    enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: spin ? "1" : "0" } } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  };
}

const f32 = (data: Float32Array, dims: readonly number[]) => new ort.Tensor("float32", data, [...dims]);

function feedsFor() {
  const params = initVitParams(cfg, 0);
  const initial = new Map<string, ort.Tensor>();
  for (const s of vitParamSpecs(cfg)) initial.set(s.name, f32(params.get(s.name)!, s.shape));
  initial.set("mask_head.weight", f32(new Float32Array(shape.dim).fill(0.01), [1, shape.dim]));
  initial.set("mask_head.bias", f32(Float32Array.of(0), [1]));
  const data = renderDiscs(1, shape.batch, shape.img, shape.patch);
  const batch = {
    images: f32(data.images, [shape.batch, 3, shape.img, shape.img]),
    target: f32(data.targets, [shape.batch, n]),
  };
  return { initial, batch };
}

interface Runner {
  forward(): Promise<number>;
  step(): Promise<number>;
  release(): Promise<void>;
  modelBytes: { forward: number; step: number };
}

async function open(profilePrefix?: (kind: string) => string): Promise<Runner> {
  const { initial, batch } = feedsFor();
  const fwdModel = toOnnx({ loss: model() }, { optimize });
  const trainStep = buildTrainStep({ loss: model(), adamw: { weightDecay: 0.05 } });
  const stepModel = toOnnx(trainStep.outputs, { optimize });
  const fwd = await ort.InferenceSession.create(fwdModel.bytes, sessionOptions(profilePrefix?.("forward")));
  const stp = await ort.InferenceSession.create(stepModel.bytes, sessionOptions(profilePrefix?.("train-step")));
  const fwdFeeds: Record<string, ort.Tensor> = { ...batch };
  for (const [k, v] of initial) fwdFeeds[`param:${k}`] = v;
  const state = new Map<string, ort.Tensor>();
  for (const spec of stepModel.inputs) {
    const m = /^(param|adam_m|adam_v):(.*)$/.exec(spec.name);
    if (!m) continue;
    state.set(
      spec.name,
      m[1] === "param" ? initial.get(m[2]!)! : f32(new Float32Array(spec.shape.reduce((a, b) => a * b, 1)), spec.shape),
    );
  }
  let t = 0;
  return {
    modelBytes: { forward: fwdModel.bytes.length, step: stepModel.bytes.length },
    async forward() {
      const out = await fwd.run(fwdFeeds);
      return (out["loss"]!.data as Float32Array)[0]!;
    },
    async step() {
      const feeds: Record<string, ort.Tensor> = { ...batch };
      for (const [k, v] of state) feeds[k] = v;
      feeds["step"] = f32(Float32Array.of(++t), []);
      feeds["lr"] = f32(Float32Array.of(1e-4), []);
      const out = await stp.run(feeds);
      for (const k of state.keys()) state.set(k, out[`new_${k}`]!);
      return (out["loss"]!.data as Float32Array)[0]!;
    },
    async release() {
      if (profilePrefix) {
        fwd.endProfiling();
        stp.endProfiling();
      }
      await fwd.release();
      await stp.release();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const MATMUL_OPS = new Set(["MatMul", "Gemm", "FusedMatMul", "FusedGemm"]);

/** Kernel time per op type, each node counted at its fastest run (robust to machine load). */
function breakdown(path: string) {
  type Event = { cat: string; name: string; dur: number; args?: { op_name?: string } };
  const events = JSON.parse(readFileSync(path, "utf8")) as Event[];
  const fastest = new Map<string, { op: string; us: number }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    const prev = fastest.get(e.name);
    if (!prev || e.dur < prev.us) fastest.set(e.name, { op: e.args?.op_name ?? "?", us: e.dur });
  }
  const byOp = new Map<string, { ms: number; nodes: number }>();
  let total = 0;
  for (const { op, us } of fastest.values()) {
    const r = byOp.get(op) ?? { ms: 0, nodes: 0 };
    r.ms += us / 1000;
    r.nodes++;
    byOp.set(op, r);
    total += us / 1000;
  }
  const ops = [...byOp.entries()].map(([op, r]) => ({ op, ...r })).sort((a, b) => b.ms - a.ms);
  const matmul_ms = ops.filter((r) => MATMUL_OPS.has(r.op)).reduce((s, r) => s + r.ms, 0);
  return { nodes: fastest.size, kernel_ms: total, matmul_ms, other_ms: total - matmul_ms, ops };
}

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
      const b = breakdown(join(dir, file));
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
