// A timm-format checkpoint written by PyTorch (timm's names, ViT-S/16 shapes at 224, depth cut
// to 2 to keep CI fast) loads by name into the encoder at a 128 crop (8 × 8 grid, position table
// resampled as timm does) and gives torch's forward.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { input, Rng } from "@exits/graph";
import { compileGraph, float32, type HostTensor, readSafetensors } from "@exits/runtime";
import { cpu, maxRelDiff, pythonLacks, runOracle } from "../testing/python-oracle.testing.js";
import { timmVariants, vitConfig } from "./vit-config.js";
import { vitEncoder } from "./vit-encoder.js";
import { checkVitWeights, vitParamSpecs, vitParamsFromWeights } from "./vit-params.js";

const dir = mkdtempSync(join(tmpdir(), "exits-timm-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("timm checkpoints", () => {
  test("ViT-S/16 and ViT-B/16 shapes are timm's", () => {
    for (const [name, d, heads] of [
      ["vit_small_patch16_224", 384, 6],
      ["vit_base_patch16_224", 768, 12],
    ] as const) {
      const cfg = vitConfig(timmVariants[name]);
      assert.equal(cfg.numHeads, heads);
      const specs = new Map(vitParamSpecs(cfg).map((s) => [s.name, [...s.shape]]));
      assert.equal(specs.size, 4 + 12 * 12 + 2, name);
      assert.deepEqual(specs.get("pos_embed"), [1, 197, d]);
      assert.deepEqual(specs.get("patch_embed.proj.weight"), [d, 3, 16, 16]);
      assert.deepEqual(specs.get("blocks.11.attn.qkv.weight"), [3 * d, d]);
      assert.deepEqual(specs.get("blocks.11.mlp.fc1.weight"), [4 * d, d]);
    }
  });

  test("a ViT-S/16 file written by PyTorch at 224 loads by name at a 128 crop and matches torch's forward", {
    skip: pythonLacks("torch"),
    timeout: 180_000,
  }, async (t) => {
    const weights = join(dir, "vit_small_patch16_224.safetensors");
    const rng = new Rng(2);
    const images = Float32Array.from({ length: 3 * 128 * 128 }, () => rng.uniform(-1, 1));
    const ref = await runOracle(
      "method_oracle.py",
      "timm",
      { images: float32(images, [1, 3, 128, 128]) },
      { weights, depth: 2, seed: 3 },
    );
    const { tensors } = await readSafetensors(weights);
    assert.deepEqual(tensors.get("pos_embed")!.shape, [1, 197, 384], "the file holds the 14 × 14 table of 224 px");
    const cfg = vitConfig({ ...timmVariants.vit_small_patch16_224, imgSize: 128, depth: 2 });
    const check = checkVitWeights(cfg, tensors);
    assert.deepEqual(check.missing, []);
    assert.deepEqual(check.unexpected.sort(), ["head.bias", "head.weight"], "the classifier is not the encoder's");
    assert.deepEqual(
      check.wrongShape.map((w) => w.name),
      ["pos_embed"],
      "only the position table differs",
    );
    const params = vitParamsFromWeights(cfg, tensors);
    const enc = vitEncoder(input("images", [1, 3, 128, 128]), cfg);
    const feeds: Record<string, HostTensor> = { images: float32(images, [1, 3, 128, 128]) };
    for (const s of vitParamSpecs(cfg)) feeds[`param:${s.name}`] = float32(params.get(s.name)!, s.shape);
    const g = await compileGraph({ tokens: enc.tokens, attention: enc.attention }, { config: cpu });
    const out = await g.run(feeds);
    await g.release();
    for (const key of ["tokens", "attention"]) {
      const err = maxRelDiff(out[key]!.data as Float32Array, ref.get(key)!.data as Float32Array);
      t.diagnostic(`${key}: max relative diff to torch ${err}`);
      assert.ok(err < 1e-4, `${key}: max relative diff ${err}`);
    }
  });
});
