import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { grad, input, mul, paramsOf, Rng, sum, type Tensor, topoSort } from "@exits/graph";
import { compileGraph, float32, type HostTensor } from "@exits/runtime";
import { cpu, maxRelDiff, pythonLacks, runOracle } from "../testing/python-oracle.testing.js";
import { initMaskDecoderParams, type MaskDecoderConfig, maskDecoder, maskDecoderParamSpecs } from "./mask-decoder.js";

const prefix = "decoder.";

describe("mask decoder", () => {
  test("parameter specs match the graph's params; R must be a multiple of N", () => {
    const cfg: MaskDecoderConfig = { embedDim: 24, grid: 4, outSize: 16, channels: 8 };
    const logits = maskDecoder(input("tokens", [2, 17, 24]), cfg);
    assert.deepEqual([...logits.shape], [2, 16, 16]);
    const used = paramsOf(logits).map((p) => ({ name: p.name, shape: [...p.shape] }));
    const specs = maskDecoderParamSpecs(cfg, prefix);
    assert.deepEqual(
      [...used].sort((a, b) => a.name.localeCompare(b.name)),
      [...specs].sort((a, b) => a.name.localeCompare(b.name)),
    );
    assert.equal(specs.filter((s) => /up\.\d+\.weight/.test(s.name)).length, 2, "two ×2 stages from 4 to 16");
    const init = initMaskDecoderParams(cfg, 3, prefix);
    for (const s of specs)
      assert.equal(
        init.get(s.name)!.length,
        s.shape.reduce((a, b) => a * b, 1),
        s.name,
      );
    assert.throws(() => maskDecoder(input("t", [1, 17, 24]), { ...cfg, outSize: 18 }), /multiple of grid/);
    assert.throws(() => maskDecoder(input("t", [1, 10, 24]), cfg), /tokens must be/);
  });

  for (const cfg of [
    { embedDim: 24, grid: 4, outSize: 16, channels: 8 },
    { embedDim: 16, grid: 4, outSize: 12, channels: 6 },
  ] satisfies MaskDecoderConfig[]) {
    test(`forward and every gradient equal PyTorch's (N ${cfg.grid} → R ${cfg.outSize})`, {
      skip: pythonLacks("torch"),
    }, async (tc) => {
      const b = 2;
      const t = 1 + cfg.grid ** 2;
      const r = cfg.outSize;
      const rng = new Rng(11);
      const tokens = Float32Array.from({ length: b * t * cfg.embedDim }, () => rng.normal());
      const cotangent = Float32Array.from({ length: b * r * r }, () => rng.uniform(-1, 1));
      const x = input("tokens", [b, t, cfg.embedDim]);
      const logits = maskDecoder(x, cfg, prefix);
      const params = topoSort([logits]).filter((n) => n.op === "param");
      const nameOf = (p: Tensor) => p.attrs.name as string;
      // Random biases too, so that every term is exercised (init leaves them 0).
      const values = initMaskDecoderParams(cfg, 5, prefix);
      for (const v of values.values())
        if (v.every((e) => e === 0)) for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-0.5, 0.5);
      const loss = sum(mul(logits, input("cotangent", [b, r, r])));
      const grads = grad(loss, [x, ...params]);
      const outputs: Record<string, Tensor> = { logits, "grad:tokens": grads[0]! };
      params.forEach((p, i) => {
        outputs[`grad:${nameOf(p)}`] = grads[i + 1]!;
      });
      const feeds: Record<string, HostTensor> = {
        tokens: float32(tokens, [b, t, cfg.embedDim]),
        cotangent: float32(cotangent, [b, r, r]),
      };
      for (const p of params) feeds[`param:${nameOf(p)}`] = float32(values.get(nameOf(p))!, [...p.shape]);
      const g = await compileGraph(outputs, { config: cpu });
      const got = await g.run(feeds);
      await g.release();
      const ref = await runOracle("method_oracle.py", "decoder", feeds, { prefix, ...cfg });
      let worst = 0;
      for (const key of Object.keys(outputs)) {
        const err = maxRelDiff(got[key]!.data as Float32Array, ref.get(key)!.data as Float32Array);
        worst = Math.max(worst, err);
        assert.ok(err < 1e-4, `${key}: relative diff ${err}`);
      }
      tc.diagnostic(`${Object.keys(outputs).length} tensors, worst relative diff to torch ${worst}`);
    });
  }
});
