// The e2e tier (design.md): all six services on loopback, wired to each other over gRPC, and the
// method's pipeline run through them (`runRemotePipeline`, what `exits pipeline --remote` does)
// against the embedded `runPipeline` on the same tiny synthetic dataset with the same seed.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RleMask, rleIou, writeSyntheticDataset } from "@exits/dataset";
import { ObjectSet, resolveMethodConfig, runPipeline } from "@exits/exits";
import { metricSample, scrapeMetrics } from "@exits/platform";
import { runRemotePipeline } from "@exits/serving";
import { type AllServices, startAllServices } from "../../libs/cli/src/start-all-services.js";

const config = resolveMethodConfig({
  crop: { size: 32, patch: 8, maskStride: 4 },
  model: { embedDim: 16, depth: 1, numHeads: 2, decoderChannels: 8 },
  extractor: { epochs: 2, batch: 4, checkpointEvery: 4 },
  generator: { epochs: 2, batch: 4, checkpointEvery: 4, crfWarmupSteps: 4 },
  crf: { iterations: 5 },
  export: { batch: 8 },
  seed: 7,
});

interface ExportedAnnotation {
  id: number;
  segmentation: RleMask;
  area: number;
  bbox: number[];
  score: number;
}

async function exported(file: string): Promise<Map<number, ExportedAnnotation>> {
  const coco = JSON.parse(await readFile(file, "utf8")) as { annotations: ExportedAnnotation[] };
  return new Map(coco.annotations.map((a) => [a.id, a]));
}

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("the pipeline through the six services equals the embedded pipeline", () => {
  let dataDir: string;
  let all: AllServices;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "exits-e2e-"));
    await writeSyntheticDataset({ out: join(dataDir, "datasets", "tiny"), images: 4, seed: 11 });
    all = await startAllServices({
      EXITS_DATA_DIR: dataDir,
      EXITS_LOG_LEVEL: "error",
      EXITS_SHUTDOWN_DRAIN_MS: "0",
      EXITS_EXECUTION_PROVIDER: "cpu",
      EXITS_INTRA_OP_THREADS: "1",
    });
  });
  after(async () => {
    await all?.shutdown("test over");
    await rm(dataDir, { recursive: true, force: true });
  });

  test("same models, same pseudo masks, and every service did its part", async () => {
    const set = await ObjectSet.read(
      join(dataDir, "datasets", "tiny", "annotations.json"),
      join(dataDir, "datasets", "tiny", "images"),
      { points: "annotation" },
    );
    assert.ok(set.objects.length >= 8, `${set.objects.length} objects`);
    const embeddedDir = join(dataDir, "embedded");
    const embedded = await runPipeline({
      set,
      config,
      outDir: embeddedDir,
      runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
    });

    const stages: string[] = [];
    const remote = await runRemotePipeline({
      addresses: { trainer: all.addresses.trainer, exporter: all.addresses.exporter },
      annotations: "datasets/tiny/annotations.json",
      images: "datasets/tiny/images",
      config,
      outDir: "runs/remote",
      execution: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
      onStage: (stage) => stages.push(stage),
    });
    assert.deepEqual(stages, ["extractor", "generator", "export"]);

    // The same seed and configuration train bit-identical models in both deployments.
    assert.equal(
      await sha256(join(dataDir, remote.extractor, "weights.safetensors")),
      await sha256(join(embedded.paths.extractor, "weights.safetensors")),
      "extractor weights",
    );
    assert.equal(
      await sha256(join(dataDir, remote.generator, "weights.safetensors")),
      await sha256(join(embedded.paths.generator, "weights.safetensors")),
      "generator (EMA teacher) weights",
    );

    const local = await exported(embedded.paths.export);
    const viaServices = await exported(join(dataDir, remote.export));
    assert.deepEqual([...viaServices.keys()].sort(), [...local.keys()].sort());
    for (const [id, a] of local) {
      const b = viaServices.get(id)!;
      assert.equal(rleIou(b.segmentation, a.segmentation), a.area === 0 && b.area === 0 ? 0 : 1, `annotation ${id}`);
      assert.equal(b.segmentation.counts, a.segmentation.counts, `annotation ${id} RLE`);
      assert.equal(b.area, a.area);
      assert.deepEqual(b.bbox, a.bbox);
      assert.ok(Math.abs(b.score - a.score) < 1e-5, `annotation ${id} score ${b.score} vs ${a.score}`);
    }

    // Each service answered calls: the pipeline really went through all of them but the CRF,
    // which serves refinement on demand (crf_refine); the CRF loss of training is in the trainer's graph.
    const calls = async (name: keyof AllServices["addresses"], method: string) =>
      metricSample(
        await scrapeMetrics("127.0.0.1", all.services.get(name)!.metricsPort),
        "exits_grpc_server_started_total",
        {
          method,
        },
      ) ?? 0;
    assert.ok((await calls("similarity", "/exits.v1.SimilarityService/ExtractSimilarity")) > 0, "similarity used");
    assert.ok((await calls("retrieval", "/exits.v1.RetrievalService/RetrievePoints")) > 0, "retrieval used");
    assert.ok((await calls("mask", "/exits.v1.MaskService/PredictMasks")) > 0, "mask used");
    assert.equal(await calls("trainer", "/exits.v1.TrainerService/StartJob"), 2);
    assert.equal(await calls("exporter", "/exits.v1.ExporterService/StartJob"), 1);
  });
});
