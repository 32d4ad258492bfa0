// What the two ViT benchmarks share: the model under test, its starting weights, batch and feeds,
// the ORT CPU session settings, the command-line flag reader and the ORT-profile summary. Both run
// the engine through @exits/runtime (`compileGraph`, `TrainStepRunner`); `vit.bench.ts` compares
// against PyTorch, `vit-probe.ts` breaks the engine's own time down by operator.
import { readFileSync } from "node:fs";
import { input, sigmoid, type Tensor } from "@exits/graph";
import { dice, initVitParams, patchMaskHead, renderDiscs, vitConfig, vitEncoder, vitParamSpecs } from "@exits/models";
import { float32, type HostTensor, type RuntimeConfig } from "@exits/runtime";

/** The benchmark ViT of issue #4: dim 192, 6 heads, 4 blocks, 256 patch tokens, batch 8. */
export const BENCH_SHAPE = { dim: 192, heads: 6, depth: 4, img: 256, patch: 16, batch: 8 } as const;
export const BENCH_VIT = vitConfig({
  imgSize: BENCH_SHAPE.img,
  patchSize: BENCH_SHAPE.patch,
  embedDim: BENCH_SHAPE.dim,
  depth: BENCH_SHAPE.depth,
  numHeads: BENCH_SHAPE.heads,
});
/** Patch tokens per image. */
export const BENCH_PATCHES = (BENCH_SHAPE.img / BENCH_SHAPE.patch) ** 2;

/** Encoder + per-patch mask head + sigmoid + Dice loss against a per-patch target. */
export function benchLoss(): Tensor {
  const images = input("images", [BENCH_SHAPE.batch, 3, BENCH_SHAPE.img, BENCH_SHAPE.img]);
  const target = input("target", [BENCH_SHAPE.batch, BENCH_PATCHES]);
  return dice(sigmoid(patchMaskHead(vitEncoder(images, BENCH_VIT).patchTokens)), target);
}

/** Seeded starting weights, by timm parameter name (plus the mask head). */
export function benchInitialParams(): Map<string, HostTensor> {
  const params = initVitParams(BENCH_VIT, 0);
  const initial = new Map<string, HostTensor>();
  for (const s of vitParamSpecs(BENCH_VIT)) initial.set(s.name, float32(params.get(s.name)!, s.shape));
  initial.set("mask_head.weight", float32(new Float32Array(BENCH_SHAPE.dim).fill(0.01), [1, BENCH_SHAPE.dim]));
  initial.set("mask_head.bias", float32([0], [1]));
  return initial;
}

/** One batch of rendered discs and their per-patch masks. */
export function benchBatch(): { images: HostTensor; target: HostTensor } {
  const { batch, img, patch } = BENCH_SHAPE;
  const data = renderDiscs(1, batch, img, patch);
  return { images: float32(data.images, [batch, 3, img, img]), target: float32(data.targets, [batch, BENCH_PATCHES]) };
}

/** The forward graph's feeds: the batch and every weight as `param:<name>`. */
export function forwardFeeds(
  initial: ReadonlyMap<string, HostTensor>,
  batch: Readonly<Record<string, HostTensor>>,
): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = { ...batch };
  for (const [k, v] of initial) feeds[`param:${k}`] = v;
  return feeds;
}

/** ORT CPU settings both benchmarks run the engine with (threads and policies from flags). */
export function benchSessionConfig(
  threads: number,
  overrides: Partial<RuntimeConfig> = {},
  profileFilePrefix?: string,
): Partial<RuntimeConfig> {
  return {
    executionProvider: "cpu",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    ...overrides,
    ...(profileFilePrefix ? { enableProfiling: true, profileFilePrefix } : {}),
  };
}

/** `--name value` and `--switch` flags of a benchmark script. */
export function flagReader(args: readonly string[]) {
  return {
    value(name: string, fallback?: string): string | undefined {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : fallback;
    },
    has(name: string): boolean {
      return args.includes(`--${name}`);
    },
  };
}

const MATMUL_OPS = new Set(["MatMul", "Gemm", "FusedMatMul", "FusedGemm"]);

/**
 * Kernel time by operator from an ORT profile file, each node counted at its fastest run (robust
 * to other processes on the machine), with the matrix products' share and the node count.
 */
export function summariseOrtProfile(path: string) {
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
    const entry = byOp.get(op) ?? { ms: 0, nodes: 0 };
    entry.ms += us / 1000;
    entry.nodes += 1;
    byOp.set(op, entry);
    total += us / 1000;
  }
  const ops = [...byOp.entries()]
    .map(([op, r]) => ({ op, ms: r.ms, nodes: r.nodes, share: r.ms / total }))
    .sort((a, b) => b.ms - a.ms);
  const matmul_ms = ops.filter((r) => MATMUL_OPS.has(r.op)).reduce((s, r) => s + r.ms, 0);
  return { nodes: fastest.size, kernel_ms: total, matmul_ms, other_ms: total - matmul_ms, ops };
}
