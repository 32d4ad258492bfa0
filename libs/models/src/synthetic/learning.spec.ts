// Learning: a small ViT trained through the engine's training-step graph (forward, backward,
// AdamW in one ONNX model, run repeatedly on ONNX Runtime's CPU provider) must lower its loss at
// least tenfold on the synthetic disc task within a bounded number of steps, with a fixed seed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildTrainStep, input, sigmoid } from "@exits/graph";
import { compileGraph, float32, type HostTensor, TrainStepRunner } from "@exits/runtime";
import { dice } from "../losses/dice.js";
import { patchMaskHead } from "../vit/patch-mask-head.js";
import { vitConfig } from "../vit/vit-config.js";
import { vitEncoder } from "../vit/vit-encoder.js";
import { initVitParams, vitParamSpecs } from "../vit/vit-params.js";
import { renderDiscs } from "./disc-masks.js";

const size = 32;
const patch = 4;
const batch = 16;
const n = (size / patch) ** 2;
const steps = 300;
const cfg = vitConfig({ imgSize: size, patchSize: patch, embedDim: 32, depth: 2, numHeads: 4 });

function model() {
  const images = input("images", [batch, 3, size, size]);
  const target = input("target", [batch, n]);
  const prob = sigmoid(patchMaskHead(vitEncoder(images, cfg).patchTokens));
  return { loss: dice(prob, target), prob };
}

const feeds = (seed: number): Record<string, HostTensor> => {
  const d = renderDiscs(seed, batch, size, patch);
  return { images: float32(d.images, [batch, 3, size, size]), target: float32(d.targets, [batch, n]) };
};

describe("learning", () => {
  test(`a 2-block ViT trained through the step graph lowers its Dice loss tenfold within ${steps} steps`, async () => {
    const initial = new Map<string, HostTensor>();
    const params = initVitParams(cfg, 1);
    for (const s of vitParamSpecs(cfg)) initial.set(s.name, float32(params.get(s.name)!, s.shape));
    initial.set("mask_head.weight", float32(new Float32Array(cfg.embedDim), [1, cfg.embedDim]));
    initial.set("mask_head.bias", float32([0], [1]));

    const runner = await TrainStepRunner.create(
      buildTrainStep({ loss: model().loss, adamw: { weightDecay: 0.01 } }),
      initial,
      {
        config: { executionProvider: "cpu", intraOpNumThreads: 2 },
      },
    );
    const data = [0, 1, 2, 3].map((i) => feeds(100 + i));
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const lr = 1e-3 * Math.min(1, (s + 1) / 20);
      losses.push((await runner.run(data[s % data.length]!, lr)).loss!.data[0] as number);
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Four batches cycle: average whole cycles so that batch difficulty does not decide the ratio.
    const first = avg(losses.slice(0, 4));
    const last = avg(losses.slice(-8));
    console.log(
      `# loss ${first.toFixed(4)} → ${last.toFixed(4)} (${(first / last).toFixed(1)}× lower) in ${steps} steps`,
    );
    assert.ok(Number.isFinite(last) && last * 10 <= first, `loss ${first} → ${last}`);

    // The trained weights also segment discs they never saw (evaluated with a forward-only graph).
    const { loss } = model();
    const evalGraph = await compileGraph({ loss }, { config: { executionProvider: "cpu", intraOpNumThreads: 2 } });
    const evalFeeds: Record<string, HostTensor> = feeds(999);
    for (const [k, v] of runner.parameters()) evalFeeds[`param:${k}`] = v;
    const heldOut = (await evalGraph.run(evalFeeds)).loss!.data[0] as number;
    console.log(`# held-out Dice loss ${heldOut.toFixed(4)}`);
    assert.ok(heldOut < first / 3, `held-out loss ${heldOut}`);
  });
});
