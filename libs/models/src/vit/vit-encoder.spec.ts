import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { input, Rng, sum } from "@exits/graph";
import { compileGraph, float32, type HostTensor, SafetensorsFile, writeSafetensors } from "@exits/runtime";
import { vitConfig } from "./vit-config.js";
import { vitEncoder } from "./vit-encoder.js";
import { checkVitWeights, initVitParams, vitParamSpecs, vitParamsFromWeights } from "./vit-params.js";

const dir = mkdtempSync(join(tmpdir(), "exits-vit-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const cfg = vitConfig({ imgSize: 16, patchSize: 4, embedDim: 24, depth: 2, numHeads: 3, attentionLayer: 0 });

function feedsFor(params: Map<string, Float32Array>, images: HostTensor): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = { images };
  for (const s of vitParamSpecs(cfg)) feeds[`param:${s.name}`] = float32(params.get(s.name)!, s.shape);
  return feeds;
}

describe("ViT encoder", () => {
  test("parameters carry timm's names and shapes", () => {
    const specs = new Map(vitParamSpecs(cfg).map((s) => [s.name, s.shape]));
    assert.equal(specs.size, 4 + 12 * 2 + 2);
    assert.deepEqual(specs.get("patch_embed.proj.weight"), [24, 3, 4, 4]);
    assert.deepEqual(specs.get("cls_token"), [1, 1, 24]);
    assert.deepEqual(specs.get("pos_embed"), [1, 17, 24]);
    assert.deepEqual(specs.get("blocks.1.attn.qkv.weight"), [72, 24]);
    assert.deepEqual(specs.get("blocks.1.attn.qkv.bias"), [72]);
    assert.deepEqual(specs.get("blocks.0.attn.proj.weight"), [24, 24]);
    assert.deepEqual(specs.get("blocks.0.mlp.fc1.weight"), [96, 24]);
    assert.deepEqual(specs.get("blocks.0.mlp.fc2.weight"), [24, 96]);
    assert.deepEqual(specs.get("blocks.1.norm2.bias"), [24]);
    assert.deepEqual(specs.get("norm.weight"), [24]);
    assert.ok(vitParamSpecs(cfg, "encoder.").every((s) => s.name.startsWith("encoder.")));
  });

  test("rejects inconsistent shapes", () => {
    assert.throws(
      () => vitConfig({ imgSize: 15, patchSize: 4, embedDim: 24, depth: 1, numHeads: 3 }),
      /multiple of patchSize/,
    );
    assert.throws(() => vitConfig({ imgSize: 16, patchSize: 4, embedDim: 25, depth: 1, numHeads: 3 }), /divisible/);
    assert.throws(
      () => vitConfig({ imgSize: 16, patchSize: 4, embedDim: 24, depth: 2, numHeads: 3, attentionLayer: 2 }),
      /outside 0..1/,
    );
  });

  test("forward: shapes, normalised tokens, and head-averaged patch attention", async () => {
    const images = input("images", [2, 3, 16, 16]);
    const out = vitEncoder(images, cfg);
    assert.deepEqual(out.tokens.shape, [2, 17, 24]);
    assert.deepEqual(out.patchTokens.shape, [2, 16, 24]);
    assert.deepEqual(out.attention.shape, [2, 16, 16]);
    assert.equal(out.attentionLayer, 0);
    const g = await compileGraph(
      { attention: out.attention, patches: out.patchTokens, rowSums: sum(out.attention, -1) },
      {
        config: { executionProvider: "cpu", intraOpNumThreads: 1 },
      },
    );
    const rng = new Rng(3);
    const img = float32(
      Array.from({ length: 2 * 3 * 16 * 16 }, () => rng.normal()),
      [2, 3, 16, 16],
    );
    const res = await g.run(feedsFor(initVitParams(cfg, 1), img));
    const att = res.attention!.data as Float32Array;
    assert.ok(att.every((v) => v > 0 && v < 1));
    // Rows lose the class-token column, so they sum to a bit less than 1.
    for (const s of res.rowSums!.data as Float32Array) assert.ok(s > 0.5 && s < 1, `row sum ${s}`);
    // With LayerNorm weight 1 and bias 0, each token has mean 0 and unit variance.
    const p = res.patches!.data as Float32Array;
    const tok = p.subarray(0, 24);
    const mu = tok.reduce((a, b) => a + b, 0) / 24;
    const var_ = tok.reduce((a, b) => a + (b - mu) ** 2, 0) / 24;
    assert.ok(Math.abs(mu) < 1e-5 && Math.abs(var_ - 1) < 1e-3, `mean ${mu} var ${var_}`);
  });

  test("weights written to safetensors under timm names load back by name", async () => {
    const params = initVitParams(cfg, 7);
    const tensors = new Map<string, HostTensor>();
    for (const s of vitParamSpecs(cfg)) tensors.set(s.name, float32(params.get(s.name)!, s.shape));
    tensors.set("head.weight", float32(new Float32Array(24 * 10), [10, 24]));
    const path = join(dir, "vit.safetensors");
    await writeSafetensors(path, tensors, { metadata: { format: "pt" } });
    const f = await SafetensorsFile.open(path);
    try {
      const check = checkVitWeights(cfg, new Map(f.header.entries.map((e) => [e.name, e])));
      assert.deepEqual(check, { missing: [], unexpected: ["head.weight"], wrongShape: [] });
      assert.deepEqual((await f.read("blocks.1.attn.qkv.weight")).data, params.get("blocks.1.attn.qkv.weight"));
      const other = vitConfig({ ...cfg, embedDim: 12, numHeads: 3 });
      assert.ok(checkVitWeights(other, new Map(f.header.entries.map((e) => [e.name, e]))).wrongShape.length > 0);
      // The same weights at another image size: everything loads, the position table is resized.
      const all = await f.readAll();
      const bigger = vitConfig({ ...cfg, imgSize: 24 });
      const loaded = vitParamsFromWeights(bigger, all);
      assert.equal(loaded.get("pos_embed")!.length, (1 + 36) * 24);
      assert.deepEqual(loaded.get("blocks.0.mlp.fc1.weight"), params.get("blocks.0.mlp.fc1.weight"));
      assert.throws(
        () => vitParamsFromWeights(other, all),
        /blocks\.0\.attn\.qkv\.weight: shape \[72, 24\], encoder needs \[36, 12\]/,
      );
    } finally {
      await f.close();
    }
  });
});
