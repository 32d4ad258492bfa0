import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeSyntheticDataset } from "@exits/dataset";
import { resolveMethodConfig } from "../config/method-config.js";
import { ObjectSet } from "../data/object-set.js";
import { initExtractorParams } from "../model/extractor-model.js";
import { sweepRetrieval } from "./sweep-retrieval.js";

describe("retrieval sweep", () => {
  test("scores every setting of the grid against the ground truth and picks by the stated rule", async () => {
    const dir = await mkdtemp(join(tmpdir(), "exits-sweep-"));
    const data = await writeSyntheticDataset({ out: dir, images: 3, seed: 2 });
    const set = await ObjectSet.read(data.annotationsFile, data.imageDir, { points: "annotation" });
    const c = resolveMethodConfig({ crop: { size: 32, patch: 8 }, model: { embedDim: 16, depth: 1, numHeads: 2 } });
    const grid = { deltas: [0, 1], alphas: [1, 2], fixed: [{ tauFg: 0.1, tauBg: -0.1 }], fractions: [0.25, 0.5] };
    const sweep = await sweepRetrieval(set, initExtractorParams(c, 1), c, {
      grid,
      minPrecision: 0,
      runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
    });
    assert.equal(sweep.rows.length, 2 * 2 * 3);
    assert.equal(sweep.objects, set.objects.length);
    for (const r of sweep.rows) {
      for (const v of [r.foregroundPrecision, r.backgroundPrecision, r.coverage])
        assert.ok(v === null || (v >= 0 && v <= 1), `${JSON.stringify(r)}`);
    }
    const gain = (r: (typeof sweep.rows)[number]) =>
      (r.coverage ?? 0) * ((r.foregroundPrecision ?? 0) + (r.backgroundPrecision ?? 0) - 1);
    assert.ok(sweep.rows.includes(sweep.best));
    for (const r of sweep.rows)
      assert.ok(gain(r) <= gain(sweep.best) + 1e-12, "no setting has more net correct labels");
    const quantile = sweep.rows.filter((r) => r.setting.mode === "quantile");
    for (const r of quantile) assert.equal(r.objectsWithPoints > 0, true);
  });
});
