import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_METHOD_CONFIG, gridOf, MethodConfigError, resolveMethodConfig } from "./method-config.js";

describe("method configuration", () => {
  test("defaults resolve, overrides merge per field and leave the defaults untouched", () => {
    const c = resolveMethodConfig({ retrieval: { alpha: 4 }, seed: 9 });
    assert.equal(c.retrieval.alpha, 4);
    assert.equal(c.retrieval.delta, DEFAULT_METHOD_CONFIG.retrieval.delta);
    assert.equal(c.seed, 9);
    assert.equal(DEFAULT_METHOD_CONFIG.retrieval.alpha, 2);
    assert.deepEqual(gridOf(c), { grid: 8, maskSize: 16 });
  });

  test("method.md defaults where the method gives them", () => {
    const c = DEFAULT_METHOD_CONFIG;
    assert.equal(c.crop.inferenceMargin, 0.3);
    assert.equal(c.crop.trainMarginMax, 1.2);
    assert.equal(c.generator.emaMomentum, 0.996);
    assert.deepEqual([c.generator.lambdaPoint, c.generator.lambdaMil, c.generator.lambdaCrf], [1, 4, 0.5]);
    assert.deepEqual([c.crf.iterations, c.crf.zeta, c.crf.low, c.crf.high], [100, 0.1, 0.1, 0.9]);
    assert.deepEqual([c.generator.beta1, c.generator.beta2, c.generator.weightDecay], [0.9, 0.9, 5e-4]);
    assert.equal(c.retrieval.dropout, 0.5);
    assert.equal(c.retrieval.sinkhornIterations, 50);
    assert.equal(c.retrieval.sinkhornTolerance, 1e-4);
    assert.equal(c.export.threshold, 0.5);
  });

  test("bad values are refused naming the field", () => {
    const bad: [object, string][] = [
      [{ crop: { size: 60, patch: 8 } }, "crop.size"],
      [{ crop: { maskStride: 3 } }, "crop.maskStride"],
      [{ model: { numHeads: 3 } }, "model.numHeads"],
      [{ generator: { lr: 0 } }, "generator.lr"],
      [{ generator: { epochs: 1.5 } }, "generator.epochs"],
      [{ retrieval: { tauFg: -1, tauBg: 0 } }, "retrieval.tauBg"],
      [{ retrieval: { mode: "median" } }, "retrieval.mode"],
      [{ retrieval: { fgFraction: 0.6, bgFraction: 0.6 } }, "retrieval.bgFraction"],
      [{ crf: { zeta: Number.NaN } }, "crf.zeta"],
      [{ export: { threshold: 0 } }, "export.threshold"],
      [{ retrieval: { alhpa: 2 } }, "retrieval.alhpa"],
      [{ nonsense: {} }, "nonsense"],
    ];
    for (const [overrides, field] of bad) {
      assert.throws(
        () => resolveMethodConfig(overrides as never),
        (e: unknown) => e instanceof MethodConfigError && e.field === field && e.message.startsWith(`config ${field}:`),
        `${JSON.stringify(overrides)} → ${field}`,
      );
    }
  });
});
