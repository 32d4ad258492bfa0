import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FillMode, ScoreScale } from "@exits/contracts";
import { DEFAULT_METHOD_CONFIG, resolveMethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import { applyCrfConfig, crfConfigToWire, resolveCrfSettings } from "./crf-config.js";
import { applyCropConfig, cropConfigToWire } from "./crop-config.js";
import { applyRetrievalConfig, describeRetrievalMode, retrievalConfigToWire } from "./retrieval-config.js";
import { applySimilarityConfig, similarityConfigToWire } from "./similarity-config.js";

const c = resolveMethodConfig({ crop: { size: 32, patch: 8 }, model: { depth: 2, embedDim: 32, numHeads: 2 } });

function rejects(fn: () => unknown, field: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, String(e));
    assert.equal(e.field, field, e.message);
    assert.equal(e.statusKind, "invalid_argument");
    return true;
  });
}

describe("wire config ↔ MethodConfig", () => {
  test("unset and null configs change nothing", () => {
    assert.equal(applyCropConfig(c, undefined, "crop"), c);
    assert.equal(applyRetrievalConfig(c, null, "config"), c);
    assert.deepEqual(resolveCrfSettings(c.crf, undefined, "config"), { ...c.crf, kernel: 3, binarizeThreshold: 0.5 });
  });

  test("crop: margin applied, crop size must match, only mirror fill, training fields refused at inference", () => {
    const out = applyCropConfig(c, { inferenceMargin: 0.5, fill: FillMode.FILL_MODE_MIRROR }, "crop");
    assert.equal(out.crop.inferenceMargin, 0.5);
    assert.equal(c.crop.inferenceMargin, DEFAULT_METHOD_CONFIG.crop.inferenceMargin);
    applyCropConfig(c, { cropSize: 32, fill: FillMode.FILL_MODE_UNSPECIFIED }, "crop");
    rejects(() => applyCropConfig(c, { cropSize: 64, fill: 0 }, "crop"), "crop.crop_size");
    rejects(
      () => applyCropConfig(c, { inferenceMargin: -0.1, fill: 0 }, "config.crop"),
      "config.crop.inference_margin",
    );
    rejects(() => applyCropConfig(c, { inferenceMargin: Number.NaN, fill: 0 }, "crop"), "crop.inference_margin");
    rejects(() => applyCropConfig(c, { fill: FillMode.FILL_MODE_WRAP }, "crop"), "crop.fill");
    rejects(() => applyCropConfig(c, { fill: 7 as FillMode }, "crop"), "crop.fill");
    rejects(() => applyCropConfig(c, { flipProbability: 0.5, fill: 0 }, "crop"), "crop.flip_probability");
    const t = applyCropConfig(c, { trainingMarginMax: 0.8, fill: 0 }, "crop", { use: "training" });
    assert.equal(t.crop.trainMarginMax, 0.8);
    rejects(
      () => applyCropConfig(c, { flipProbability: 0.3, fill: 0 }, "crop", { use: "training" }),
      "crop.flip_probability",
    );
    assert.deepEqual(applyCropConfig(c, cropConfigToWire(c), "crop", { use: "training" }), c);
  });

  test("similarity: attention layer within depth, Sinkhorn ranges, clamp_min fixed", () => {
    const out = applySimilarityConfig(
      c,
      { attentionLayer: 0, sinkhorn: { maxIterations: 7, tolerance: 1e-3 } },
      "similarity",
    );
    assert.equal(out.extractor.attentionLayer, 0);
    assert.equal(out.retrieval.sinkhornIterations, 7);
    assert.equal(out.retrieval.sinkhornTolerance, 1e-3);
    rejects(() => applySimilarityConfig(c, { attentionLayer: 2 }, "similarity"), "similarity.attention_layer");
    rejects(() => applySimilarityConfig(c, { attentionLayer: -3 }, "similarity"), "similarity.attention_layer");
    rejects(
      () => applySimilarityConfig(c, { sinkhorn: { maxIterations: 0 } }, "similarity"),
      "similarity.sinkhorn.max_iterations",
    );
    rejects(
      () => applySimilarityConfig(c, { sinkhorn: { tolerance: 0 } }, "similarity"),
      "similarity.sinkhorn.tolerance",
    );
    rejects(
      () => applySimilarityConfig(c, { sinkhorn: { clampMin: 1e-6 } }, "similarity"),
      "similarity.sinkhorn.clamp_min",
    );
    assert.deepEqual(applySimilarityConfig(c, similarityConfigToWire(c), "similarity"), c);
  });

  test("retrieval: τ set → fixed mode; RAW scaled by N²; τ_bg < τ_fg; unset keeps the manifest's mode", () => {
    assert.equal(c.retrieval.mode, "quantile");
    const kept = applyRetrievalConfig(c, { alpha: 3, seedShiftPatches: 0, scoreScale: 0 }, "config");
    assert.equal(kept.retrieval.mode, "quantile");
    assert.equal(kept.retrieval.alpha, 3);
    assert.equal(kept.retrieval.delta, 0);
    assert.equal(retrievalConfigToWire(kept).tauFg, undefined);
    assert.equal(retrievalConfigToWire(kept).fgFraction, c.retrieval.fgFraction);
    assert.match(describeRetrievalMode(kept), /quantiles/);
    // Fractions select quantile mode from a fixed-mode manifest, and round-trip through the wire.
    const fromFixed = { ...c, retrieval: { ...c.retrieval, mode: "fixed" as const } };
    const q = applyRetrievalConfig(fromFixed, { fgFraction: 0.3, bgFraction: 0.6, scoreScale: 0 }, "config");
    assert.deepEqual([q.retrieval.mode, q.retrieval.fgFraction, q.retrieval.bgFraction], ["quantile", 0.3, 0.6]);
    assert.deepEqual(applyRetrievalConfig(fromFixed, retrievalConfigToWire(q), "config"), q);
    rejects(
      () => applyRetrievalConfig(c, { fgFraction: 0.3, tauFg: 1, scoreScale: 0 }, "config"),
      "config.fg_fraction",
    );
    rejects(() => applyRetrievalConfig(c, { fgFraction: 1.5, scoreScale: 0 }, "config"), "config.fg_fraction");
    rejects(
      () => applyRetrievalConfig(c, { fgFraction: 0.6, bgFraction: 0.6, scoreScale: 0 }, "config"),
      "config.bg_fraction",
    );
    const fixed = applyRetrievalConfig(c, { tauFg: 0.5, scoreScale: ScoreScale.SCORE_SCALE_N_SQUARED }, "config");
    assert.deepEqual(
      [fixed.retrieval.mode, fixed.retrieval.tauFg, fixed.retrieval.tauBg],
      ["fixed", 0.5, c.retrieval.tauBg],
    );
    const raw = applyRetrievalConfig(
      c,
      { tauFg: 0.01, tauBg: -0.02, scoreScale: ScoreScale.SCORE_SCALE_RAW },
      "config",
    );
    assert.deepEqual([raw.retrieval.tauFg, raw.retrieval.tauBg], [0.01 * 16, -0.02 * 16]);
    const wire = retrievalConfigToWire(raw);
    assert.deepEqual(wire, { seedShiftPatches: 1, alpha: c.retrieval.alpha, tauFg: 0.16, tauBg: -0.32, scoreScale: 1 });
    assert.deepEqual(applyRetrievalConfig(c, wire, "config"), raw);
    rejects(() => applyRetrievalConfig(c, { alpha: 0, scoreScale: 0 }, "config"), "config.alpha");
    rejects(() => applyRetrievalConfig(c, { alpha: 1.5, scoreScale: 0 }, "config"), "config.alpha");
    rejects(
      () => applyRetrievalConfig(c, { seedShiftPatches: -1, scoreScale: 0 }, "config"),
      "config.seed_shift_patches",
    );
    rejects(
      () => applyRetrievalConfig(c, { seedShiftPatches: 0.5, scoreScale: 0 }, "config"),
      "config.seed_shift_patches",
    );
    rejects(() => applyRetrievalConfig(c, { tauFg: 1, tauBg: 1, scoreScale: 0 }, "config"), "config.tau_bg");
    rejects(
      () => applyRetrievalConfig(c, { tauFg: Number.POSITIVE_INFINITY, scoreScale: 0 }, "config"),
      "config.tau_fg",
    );
    rejects(() => applyRetrievalConfig(c, { scoreScale: 9 as ScoreScale }, "config"), "config.score_scale");
  });

  test("crf: ranges named; MethodConfig only takes kernel 3 and threshold 0.5, the standalone CRF more", () => {
    const s = resolveCrfSettings(
      c.crf,
      { zeta: 0.2, iterations: 5, clampMin: 0.05, clampMax: 0.95, kernelSize: 5, binarizeThreshold: 0.4 },
      "config",
    );
    assert.deepEqual(s, { zeta: 0.2, iterations: 5, low: 0.05, high: 0.95, kernel: 5, binarizeThreshold: 0.4 });
    assert.deepEqual(resolveCrfSettings(c.crf, crfConfigToWire(s), "config"), s);
    const m = applyCrfConfig(c, { zeta: 0.2, iterations: 5, clampMin: 0.05, kernelSize: 3 }, "config.crf");
    assert.deepEqual(m.crf, { zeta: 0.2, iterations: 5, low: 0.05, high: 0.9 });
    rejects(() => applyCrfConfig(c, { kernelSize: 5 }, "config.crf"), "config.crf.kernel_size");
    rejects(() => applyCrfConfig(c, { binarizeThreshold: 0.4 }, "config.crf"), "config.crf.binarize_threshold");
    rejects(() => resolveCrfSettings(c.crf, { kernelSize: 4 }, "config"), "config.kernel_size");
    rejects(() => resolveCrfSettings(c.crf, { zeta: 0 }, "config"), "config.zeta");
    rejects(() => resolveCrfSettings(c.crf, { iterations: 0 }, "config"), "config.iterations");
    rejects(() => resolveCrfSettings(c.crf, { clampMin: 0.6 }, "config"), "config.clamp_min");
    rejects(() => resolveCrfSettings(c.crf, { clampMax: 1.1 }, "config"), "config.clamp_max");
    rejects(() => resolveCrfSettings(c.crf, { clampMin: 0.5, clampMax: 0.5 }, "config"), "config.clamp_min");
    rejects(() => resolveCrfSettings(c.crf, { binarizeThreshold: 1 }, "config"), "config.binarize_threshold");
  });
});
