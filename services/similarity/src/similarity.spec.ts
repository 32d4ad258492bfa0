// SimilarityService over real gRPC on loopback, with a tiny random-weight extractor in a temp data
// directory: every RPC, T equal to the library's graph on the same crops, and bad input answered
// with the right status naming the field while health stays SERVING.
import assert from "node:assert/strict";
import { symlink } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import {
  DType,
  type ExtractSimilarityResponse,
  InvalidPolicy,
  type ModelInfo,
  type ObjectSimilarity,
  SERVICE_PROTOS,
  SimilarityOutput,
} from "@exits/contracts";
import { compileRetrieval } from "@exits/exits";
import {
  checkHealth,
  contractServiceSpec,
  loopbackServiceEnv,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import {
  ContractClient,
  cutCrop,
  float32Tensor,
  type TinyExtractorFixture,
  tinyExtractorFixture,
} from "@exits/serving";
import { type ServiceError, status } from "@grpc/grpc-js";
import { SimilarityModule } from "./similarity.module.js";

const M = 16; // N = 4

function floats(t: { data: Uint8Array } | undefined): Float32Array {
  const bytes = new Uint8Array(t!.data);
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
}

async function expectError(p: Promise<unknown>, code: keyof typeof status, field: RegExp): Promise<void> {
  const error = (await p.then(
    () => assert.fail("answered OK"),
    (e: unknown) => e,
  )) as ServiceError;
  assert.equal(
    [
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
    ][error.code] ?? String(error.code),
    code,
    error.details,
  );
  assert.match(error.details, field);
}

describe("SimilarityService over real gRPC", () => {
  let fx: TinyExtractorFixture;
  let service: RunningService;
  let client: ContractClient;
  let address: string;
  let libraryT: Float32Array[];

  before(async () => {
    fx = await tinyExtractorFixture();
    const env = loopbackServiceEnv(fx.dataDir, {
      EXITS_MAX_OBJECTS_PER_REQUEST: "64",
      EXITS_SIMILARITY_MAX_BATCH: "2",
    });
    service = await startGrpcService(contractServiceSpec("similarity", SimilarityModule), env);
    address = `127.0.0.1:${service.grpcPort}`;
    client = new ContractClient("similarity", address);
    // The library's composite retrieval graph on the same canonical crops, one at a time.
    const image = await fx.set.pixels(fx.set.objects[0]!.imageId);
    const graph = await compileRetrieval(fx.config, fx.parameters, 1, [1], {
      transition: true,
      runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
    });
    libraryT = [];
    for (const o of fx.set.objects.filter((x) => x.imageId === fx.set.objects[0]!.imageId)) {
      const crop = cutCrop(image, o.points, fx.config);
      const out = await graph.run({
        images: { dtype: "float32", shape: [1, 3, 32, 32], data: crop.pixels },
        seeds: { dtype: "float32", shape: [1, 2, M], data: new Float32Array(2 * M).fill(1 / M) },
      });
      libraryT.push(out.transition!.data as Float32Array);
    }
    await graph.release();
  });

  after(async () => {
    client?.close();
    await service?.shutdown("test over");
  });

  const images = (objects = fx.objects, image: Record<string, unknown> = { path: fx.imagePath }) => ({
    images: { images: [{ image, objects: objects.map((p, i) => ({ extremePoints: p, key: `o${i}` })), key: "img" }] },
  });

  test("GetModelInfo describes the extractor, the provider ONNX Runtime opened, and readiness", async () => {
    let info: ModelInfo;
    do info = await client.unary<unknown, ModelInfo>("getModelInfo", { model: "" });
    while (!info.ready);
    assert.equal(info.kind, 1);
    assert.equal(info.path, "models/extractor");
    assert.match(info.weightsSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual([info.cropSize, info.patchSize, info.gridSize, info.maskResolution], [32, 8, 4, 0]);
    assert.equal(info.similarity?.attentionLayer, -1);
    assert.equal(info.provider, 2, "EXECUTION_PROVIDER_CPU");
    assert.equal(info.retrieval?.alpha, undefined, "no sweep recorded: retrieval unset");
  });

  test("ExtractSimilarity: T per object equals the library's graph; doubly stochastic and symmetric", async () => {
    assert.ok(fx.objects.length >= 3, "several objects (batches of 2 with padding)");
    const reply = await client.unary<unknown, ExtractSimilarityResponse>("extractSimilarity", images());
    assert.equal(reply.model, "models/extractor");
    assert.equal(reply.results.length, fx.objects.length);
    reply.results.forEach((r, k) => {
      assert.deepEqual([r.object?.imageIndex, r.object?.objectIndex, r.object?.key], [0, k, `o${k}`]);
      assert.equal(r.gridSize, 4);
      assert.equal(r.similarity, null);
      assert.deepEqual(r.transition?.shape, [M, M]);
      const t = floats(r.transition!);
      for (let i = 0; i < t.length; i++) assert.ok(Math.abs(t[i]! - libraryT[k]![i]!) < 1e-5, `T[${i}]`);
      for (let i = 0; i < M; i++) {
        let row = 0;
        for (let j = 0; j < M; j++) {
          row += t[i * M + j]!;
          assert.ok(Math.abs(t[i * M + j]! - t[j * M + i]!) < 1e-6);
        }
        assert.ok(Math.abs(row - 1) < 1e-3, `row ${i} sums to ${row}`);
      }
      assert.ok(r.sinkhornIterations >= 1 && r.sinkhornResidual >= 0);
      assert.equal(r.crop?.size, 32);
    });
    assert.equal(reply.similarity?.sinkhorn?.maxIterations, fx.config.retrieval.sinkhornIterations);
  });

  test("crops input, output BOTH, the stream and encoded bytes all give the same T", async () => {
    const image = await fx.set.pixels(fx.set.objects[0]!.imageId);
    const crops = fx.set.objects
      .filter((x) => x.imageId === fx.set.objects[0]!.imageId)
      .map((o) => cutCrop(image, o.points, fx.config).pixels);
    const data = new Float32Array(crops.length * 3 * 32 * 32);
    crops.forEach((c, k) => {
      data.set(c, k * 3 * 32 * 32);
    });
    const reply = await client.unary<unknown, ExtractSimilarityResponse>("extractSimilarity", {
      crops: { crops: float32Tensor([crops.length, 3, 32, 32], data) },
      output: SimilarityOutput.SIMILARITY_OUTPUT_BOTH,
    });
    const streamed: ObjectSimilarity[] = [];
    for await (const r of client.stream<unknown, ObjectSimilarity>(
      "extractSimilarityStream",
      images(fx.objects, { encoded: fx.imageBytes }),
    ))
      streamed.push(r);
    assert.equal(streamed.length, crops.length);
    reply.results.forEach((r, k) => {
      assert.deepEqual(r.similarity?.shape, [M, M]);
      assert.deepEqual(floats(r.transition!), floats(streamed[k]!.transition!));
      const t = floats(r.transition!);
      for (let i = 0; i < t.length; i++) assert.ok(Math.abs(t[i]! - libraryT[k]![i]!) < 1e-5);
      assert.equal(streamed[k]!.object?.objectIndex, k);
    });
  });

  test("overrides: sinkhorn max_iterations 1 runs one round; SKIP turns a bad object into an issue", async () => {
    const bad = { ...fx.objects[0]!, left: { x: 1e6, y: 1 } };
    const reply = await client.unary<unknown, ExtractSimilarityResponse>("extractSimilarity", {
      ...images([fx.objects[0]!, bad, fx.objects[1]!]),
      similarity: { sinkhorn: { maxIterations: 1 } },
      invalidPolicy: InvalidPolicy.INVALID_POLICY_SKIP,
    });
    assert.equal(reply.results.length, 3);
    assert.equal(reply.results[0]!.sinkhornIterations, 1);
    assert.equal(reply.results[1]!.transition, null);
    assert.equal(reply.results[1]!.issue?.reason, "points_outside_image");
    assert.equal(reply.results[1]!.issue?.field, "images.images[0].objects[1].extreme_points.left");
    assert.equal(reply.results[2]!.object?.objectIndex, 2);
  });

  test("bad input: each the right code, naming the field; health SERVING afterwards", async () => {
    const call = (request: unknown) => client.unary("extractSimilarity", request);
    const p = fx.objects[0]!;
    const cases: Array<[unknown, keyof typeof status, RegExp]> = [
      [images([p], { encoded: Buffer.alloc(0) }), "INVALID_ARGUMENT", /images\.images\[0\]\.image\.encoded: is empty/],
      [
        images([p], { encoded: Buffer.from("not an image at all") }),
        "INVALID_ARGUMENT",
        /image\.encoded: is neither PNG nor JPEG/,
      ],
      [
        images([p], { encoded: Buffer.concat([fx.imageBytes.subarray(0, 40), Buffer.alloc(40)]) }),
        "INVALID_ARGUMENT",
        /image\.encoded/,
      ],
      [images([{ ...p, top: { x: -5, y: -5 } }]), "INVALID_ARGUMENT", /objects\[0\]\.extreme_points\.top: .*outside/],
      [
        images([{ top: { x: 10, y: 10 }, left: { x: 10, y: 11 }, bottom: { x: 10, y: 11 }, right: { x: 11, y: 11 } }]),
        "INVALID_ARGUMENT",
        /extreme_points: span a/,
      ],
      [images([{ ...p, right: undefined }]), "INVALID_ARGUMENT", /extreme_points\.right: is missing/],
      [images([{ ...p, bottom: { x: Number.NaN, y: 3 } }]), "INVALID_ARGUMENT", /extreme_points\.bottom: .*finite/],
      [
        images([{ ...p, left: { x: Number.POSITIVE_INFINITY, y: 3 } }]),
        "INVALID_ARGUMENT",
        /extreme_points\.left: .*finite/,
      ],
      [
        images(Array.from({ length: 10_000 }, () => p)),
        "INVALID_ARGUMENT",
        /images\.images: holds 10000 objects; at most 64/,
      ],
      [
        {
          crops: { crops: { shape: [1, 3, 32, 32], dtype: DType.DTYPE_FLOAT64, data: Buffer.alloc(8 * 3 * 32 * 32) } },
        },
        "INVALID_ARGUMENT",
        /crops\.crops: dtype must be DTYPE_FLOAT32/,
      ],
      [
        {
          crops: { crops: { shape: [1, 3, 16, 16], dtype: DType.DTYPE_FLOAT32, data: Buffer.alloc(4 * 3 * 16 * 16) } },
        },
        "INVALID_ARGUMENT",
        /crops\.crops: shape must be \[\*, 3, 32, 32\]/,
      ],
      [
        { crops: { crops: { shape: [1, 3, 32, 32], dtype: DType.DTYPE_FLOAT32, data: Buffer.alloc(10) } } },
        "INVALID_ARGUMENT",
        /crops\.crops: data holds 10 bytes/,
      ],
      [{ ...images(), similarity: { attentionLayer: 5 } }, "INVALID_ARGUMENT", /similarity\.attention_layer/],
      [
        { ...images(), similarity: { sinkhorn: { tolerance: -1 } } },
        "INVALID_ARGUMENT",
        /similarity\.sinkhorn\.tolerance/,
      ],
      [{ ...images(), crop: { inferenceMargin: -1 } }, "INVALID_ARGUMENT", /crop\.inference_margin/],
      [{ ...images(), crop: { cropSize: 64 } }, "INVALID_ARGUMENT", /crop\.crop_size/],
      [{ ...images(), crop: { fill: 2 } }, "INVALID_ARGUMENT", /crop\.fill: only FILL_MODE_MIRROR/],
      [images([p], { path: "/etc/passwd" }), "INVALID_ARGUMENT", /images\.images\[0\]\.image\.path: .*absolute/],
      [images([p], { path: "../outside.png" }), "INVALID_ARGUMENT", /image\.path: .*"\.\."/],
      [images([p], { path: "escape/x.png" }), "INVALID_ARGUMENT", /image\.path: .*symbolic link/],
      [images([p], { path: "datasets/none.png" }), "NOT_FOUND", /image\.path/],
      [{ ...images(), model: "../models" }, "INVALID_ARGUMENT", /^model: /],
      [{ ...images(), model: "models/nothing" }, "NOT_FOUND", /models\/nothing/],
      [{}, "INVALID_ARGUMENT", /input: is missing/],
    ];
    await symlink("/tmp", `${fx.dataDir}/escape`);
    for (const [request, code, field] of cases) await expectError(call(request), code, field);
    assert.equal(await checkHealth(address, SERVICE_PROTOS.similarity.fullName), "SERVING");
    const exposition = await scrapeMetrics("127.0.0.1", service.metricsPort);
    assert.ok((metricSample(exposition, "exits_similarity_objects_total", { outcome: "computed" }) ?? 0) >= 3);
    assert.ok((metricSample(exposition, "exits_onnx_run_seconds_count", { graph: "similarity" }) ?? 0) >= 2);
    assert.ok((metricSample(exposition, "exits_model_load_seconds_count", {}) ?? 0) >= 1);
  });
});
