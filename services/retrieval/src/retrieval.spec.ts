// RetrievalService over real gRPC on loopback with a tiny random-weight extractor: image items (T in
// process, and from a SimilarityService over gRPC), transition items, the remote PointRetriever
// against the in-process one, GetDefaults, and bad input naming the field with health SERVING after.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DType,
  InvalidPolicy,
  type RetrievalDefaults,
  type RetrievedPoints,
  type RetrievePointsResponse,
  SERVICE_PROTOS,
} from "@exits/contracts";
import {
  compileRetrieval,
  cropSeeds,
  inProcessPointRetriever,
  type ObjectScores,
  retrievalScores,
  seedDistributions,
  selectPatches,
} from "@exits/exits";
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
  cropTransformToWire,
  float32Tensor,
  remotePointRetriever,
  type TinyExtractorFixture,
  tinyExtractorFixture,
} from "@exits/serving";
import { type ServiceError, status } from "@grpc/grpc-js";
import { SimilarityModule } from "../../similarity/src/similarity.module.js";
import { RetrievalModule } from "./retrieval.module.js";

// Patch 4 on a 32 px crop: N = 8, so the inference margin leaves background patches (at N = 4 none).
const N = 8;
const M = N * N;
const runtime = { executionProvider: "cpu" as const, intraOpNumThreads: 1 };

function floats(t: { data: Uint8Array } | null | undefined): Float32Array {
  const bytes = new Uint8Array(t!.data);
  return new Float32Array(bytes.buffer, 0, bytes.length / 4);
}

async function expectError(p: Promise<unknown>, code: keyof typeof status, field: RegExp): Promise<void> {
  const error = (await p.then(
    () => assert.fail(`answered OK, expected ${code} ${field}`),
    (e: unknown) => e,
  )) as ServiceError;
  assert.equal(status[error.code], code, error.details);
  assert.match(error.details, field);
}

/** The contract's invariants of one result: sorted, disjoint, P_FG ∪ P_BG ∪ P_Box = the grid. */
function checkSets(r: RetrievedPoints): void {
  const sets = [r.seedForeground, r.seedBackground, r.box, r.pseudoForeground, r.pseudoBackground];
  for (const s of sets)
    assert.deepEqual(
      s,
      [...s].sort((a, b) => a - b),
    );
  assert.equal(new Set([...r.seedForeground, ...r.seedBackground, ...r.box]).size, M);
  assert.equal(r.seedForeground.length + r.seedBackground.length + r.box.length, M);
  const box = new Set(r.box);
  for (const i of [...r.pseudoForeground, ...r.pseudoBackground]) assert.ok(box.has(i));
  assert.equal(
    new Set([...r.pseudoForeground, ...r.pseudoBackground]).size,
    r.pseudoForeground.length + r.pseudoBackground.length,
  );
}

describe("RetrievalService over real gRPC", () => {
  let fx: TinyExtractorFixture;
  const services: RunningService[] = [];
  const clients: ContractClient[] = [];
  let local: ContractClient;
  let viaSimilarity: ContractClient;
  let address: string;
  let library: ObjectScores[];

  const env = (dataDir: string, extra: Record<string, string> = {}) =>
    loopbackServiceEnv(dataDir, { EXITS_SIMILARITY_MAX_BATCH: "4", ...extra });

  before(async () => {
    fx = await tinyExtractorFixture({ crop: { size: 32, patch: 4 } });
    const start = async (name: "retrieval" | "similarity", e: Record<string, string>) => {
      const mod = name === "retrieval" ? RetrievalModule : SimilarityModule;
      const s = await startGrpcService(contractServiceSpec(name, mod), e);
      services.push(s);
      return `127.0.0.1:${s.grpcPort}`;
    };
    address = await start("retrieval", env(fx.dataDir));
    const similarity = await start("similarity", env(fx.dataDir));
    const remote = await start("retrieval", env(fx.dataDir, { EXITS_SIMILARITY_ADDRESS: similarity }));
    local = new ContractClient("retrieval", address);
    viaSimilarity = new ContractClient("retrieval", remote);
    clients.push(local, viaSimilarity);
    // The extractor loads in the background: UNAVAILABLE until then.
    for (const client of [local, viaSimilarity])
      for (;;) {
        const ok = await client.unary("getDefaults", {}).then(
          () => true,
          (e: ServiceError) => (e.code === status.UNAVAILABLE ? false : Promise.reject(e)),
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    library = await retrievalScores(fx.set, fx.parameters, fx.config, { runtime });
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of services) await s.shutdown("test over");
  });

  test("GetDefaults: builtin source, δ and α set, τ unset in the built-in quantile mode", async () => {
    const d = await local.unary<unknown, RetrievalDefaults>("getDefaults", { extractorModel: "" });
    assert.equal(d.source, "builtin");
    assert.equal(d.config?.alpha, fx.config.retrieval.alpha);
    assert.equal(d.config?.seedShiftPatches, fx.config.retrieval.delta);
    assert.equal(fx.config.retrieval.mode, "quantile");
    assert.equal(d.config?.tauFg, undefined);
    assert.equal(d.config?.scoreScale, 1);
  });

  test("the remote PointRetriever gives exactly the in-process retriever's points, T in process and over gRPC", async () => {
    const expected = await inProcessPointRetriever(fx.parameters, { runtime }).retrieve(fx.set, fx.config);
    assert.ok(
      expected.some((p) => p.foreground.length > 0),
      "pseudo foreground to compare",
    );
    assert.ok(
      expected.some((p) => p.background.length > 0),
      "pseudo background to compare",
    );
    for (const client of [local, viaSimilarity]) {
      const got = await remotePointRetriever({ client, dataDir: fx.dataDir, batch: 3 }).retrieve(fx.set, fx.config);
      assert.deepEqual(got, expected);
    }
    // Images outside the data directory go as bytes: same points.
    const bytes = await remotePointRetriever({ client: local, batch: 5 }).retrieve(fx.set, fx.config);
    assert.deepEqual(bytes, expected);
  });

  test("transition items: scores and π equal the library's walk; fixed thresholds switch the mode", async () => {
    const objects = fx.set.objects.slice(0, 3);
    const image = await fx.set.pixels(objects[0]!.imageId);
    const graph = await compileRetrieval(fx.config, fx.parameters, 1, [fx.config.retrieval.alpha], {
      transition: true,
      runtime,
    });
    const items = [];
    for (const [k, o] of objects.entries()) {
      const s = library[k]!;
      const pixels = new Float32Array(3 * 32 * 32);
      const { writeNormalisedChw } = await import("@exits/exits");
      writeNormalisedChw(s.crop.image, pixels, 0);
      const seeds = new Float32Array(2 * M);
      seedDistributions(cropSeeds(s.crop, N, fx.config.retrieval.delta), seeds, 0);
      const out = await graph.run({
        images: { dtype: "float32", shape: [1, 3, 32, 32], data: pixels },
        seeds: { dtype: "float32", shape: [1, 2, M], data: seeds },
      });
      const img = o.imageId === objects[0]!.imageId ? image : await fx.set.pixels(o.imageId);
      const [top, left, bottom, right] = o.points.map(([x, y]) => ({ x, y }));
      items.push({
        extremePoints: { top, left, bottom, right },
        transition: {
          transition: float32Tensor([M, M], out.transition!.data as Float32Array),
          crop: cropTransformToWire(s.crop.map, img),
        },
        key: `k${k}`,
      });
    }
    await graph.release();
    const reply = await local.unary<unknown, RetrievePointsResponse>("retrievePoints", {
      items,
      includeScores: true,
      includeDistributions: true,
    });
    reply.results.forEach((r, k) => {
      checkSets(r);
      assert.equal(r.key, `k${k}`);
      const want = library[k]!.byDelta.get(fx.config.retrieval.delta)!.byAlpha.get(fx.config.retrieval.alpha)!;
      const got = floats(r.scores);
      for (let i = 0; i < M; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4, `score ${i}: ${got[i]} vs ${want[i]}`);
      const picked = selectPatches(want, library[k]!.byDelta.get(1)!.seeds, fx.config.retrieval);
      assert.deepEqual([r.pseudoForeground, r.pseudoBackground], [picked.foreground, picked.background]);
      assert.ok(r.seedBackground.length > 0);
      for (const pi of [floats(r.piForeground), floats(r.piBackground)]) {
        const sum = pi.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-3, `π sums to ${sum}`);
      }
      assert.ok(r.coverage >= 0 && r.coverage <= 1);
    });
    const fixed = await local.unary<unknown, RetrievePointsResponse>("retrievePoints", {
      items,
      config: { tauFg: 0.5, tauBg: -0.5, alpha: 3 },
      includeScores: true,
    });
    assert.deepEqual([fixed.config?.tauFg, fixed.config?.tauBg, fixed.config?.alpha], [0.5, -0.5, 3]);
    for (const r of fixed.results) {
      checkSets(r);
      const s = floats(r.scores);
      for (const i of r.box) {
        assert.equal(r.pseudoForeground.includes(i), s[i]! >= 0.5);
        assert.equal(r.pseudoBackground.includes(i), s[i]! <= -0.5);
      }
    }
    // RAW scale: thresholds and scores divided by N².
    const raw = await local.unary<unknown, RetrievePointsResponse>("retrievePoints", {
      items,
      config: { tauFg: 0.5 / M, tauBg: -0.5 / M, alpha: 3, scoreScale: 2 },
      includeScores: true,
    });
    raw.results.forEach((r, k) => {
      assert.deepEqual(r.pseudoForeground, fixed.results[k]!.pseudoForeground);
      assert.ok(Math.abs(floats(r.scores)[0]! * M - floats(fixed.results[k]!.scores)[0]!) < 1e-5);
    });
  });

  test("bad input: right code naming the field; SKIP reports the item; health SERVING afterwards", async () => {
    const o = fx.set.objects[0]!;
    const [top, left, bottom, right] = o.points.map(([x, y]) => ({ x, y }));
    const points = { top, left, bottom, right };
    const s = library[0]!;
    const crop = cropTransformToWire(s.crop.map, await fx.set.pixels(o.imageId));
    const t = (shape: number[], dtype: DType, bytes: number) => ({ shape, dtype, data: Buffer.alloc(bytes) });
    const tItem = (transition: unknown, extra: Record<string, unknown> = {}) => ({
      items: [{ extremePoints: points, transition: { transition, crop }, ...extra }],
    });
    const nan = new Float32Array(M * M).fill(Number.NaN);
    const imageItem = (image: unknown, p: unknown = points) => ({ items: [{ extremePoints: p, image }] });
    const call = (request: unknown) => local.unary("retrievePoints", request, { timeoutMs: 10_000 });
    const cases: Array<[unknown, keyof typeof status, RegExp]> = [
      [
        tItem(t([M, M], DType.DTYPE_FLOAT64, 8 * M * M)),
        "INVALID_ARGUMENT",
        /items\[0\]\.transition\.transition: dtype must be DTYPE_FLOAT32/,
      ],
      [
        tItem(t([16, 16], DType.DTYPE_FLOAT32, 4 * 16 * 16)),
        "INVALID_ARGUMENT",
        /items\[0\]\.transition\.transition: shape must be \[64, 64\]/,
      ],
      [tItem(t([M, M], DType.DTYPE_FLOAT32, 12)), "INVALID_ARGUMENT", /transition\.transition: data holds 12 bytes/],
      [tItem(float32Tensor([M, M], nan)), "INVALID_ARGUMENT", /transition\.transition: element 0 is NaN/],
      [
        { items: [{ extremePoints: points, transition: { transition: t([M, M], 1, 4 * M * M) } }] },
        "INVALID_ARGUMENT",
        /items\[0\]\.transition\.crop: is missing/,
      ],
      [{ items: [{ extremePoints: points }] }, "INVALID_ARGUMENT", /items\[0\]: has no source/],
      [imageItem({ encoded: Buffer.alloc(0) }), "INVALID_ARGUMENT", /items\[0\]\.image\.encoded: is empty/],
      [
        imageItem({ encoded: Buffer.from("GIF89a....") }),
        "INVALID_ARGUMENT",
        /items\[0\]\.image\.encoded: is neither PNG nor JPEG/,
      ],
      [
        imageItem({ path: fx.imagePath }, { ...points, right: { x: 1e5, y: 3 } }),
        "INVALID_ARGUMENT",
        /items\[0\]\.extreme_points\.right: .*outside/,
      ],
      [
        imageItem({ path: fx.imagePath }, { ...points, top: undefined }),
        "INVALID_ARGUMENT",
        /items\[0\]\.extreme_points\.top: is missing/,
      ],
      [
        imageItem({ path: fx.imagePath }, { ...points, top: { x: Number.NaN, y: 0 } }),
        "INVALID_ARGUMENT",
        /extreme_points\.top: .*finite/,
      ],
      [
        imageItem(
          { path: fx.imagePath },
          { top: { x: 5, y: 5 }, left: { x: 5, y: 6 }, bottom: { x: 5, y: 6 }, right: { x: 6, y: 6 } },
        ),
        "INVALID_ARGUMENT",
        /items\[0\]\.extreme_points: span a/,
      ],
      [imageItem({ path: "/etc/hosts" }), "INVALID_ARGUMENT", /items\[0\]\.image\.path: .*absolute/],
      [imageItem({ path: "datasets/../../x.png" }), "INVALID_ARGUMENT", /items\[0\]\.image\.path: .*"\.\."/],
      [
        { items: Array.from({ length: 10_000 }, () => ({ extremePoints: points })) },
        "INVALID_ARGUMENT",
        /^items: holds 10000 items; at most 1024/,
      ],
      [
        { ...tItem(float32Tensor([M, M], new Float32Array(M * M))), config: { alpha: 0 } },
        "INVALID_ARGUMENT",
        /config\.alpha/,
      ],
      [
        { ...tItem(float32Tensor([M, M], new Float32Array(M * M))), config: { tauFg: 1, tauBg: 2 } },
        "INVALID_ARGUMENT",
        /config\.tau_bg/,
      ],
      [
        { ...tItem(float32Tensor([M, M], new Float32Array(M * M))), config: { seedShiftPatches: -1 } },
        "INVALID_ARGUMENT",
        /config\.seed_shift_patches/,
      ],
      [
        { ...tItem(float32Tensor([M, M], new Float32Array(M * M))), config: { scoreScale: 7 } },
        "INVALID_ARGUMENT",
        /config\.score_scale/,
      ],
      [
        { ...tItem(float32Tensor([M, M], new Float32Array(M * M))), extractorModel: "/abs" },
        "INVALID_ARGUMENT",
        /extractor_model/,
      ],
    ];
    for (const [request, code, field] of cases) await expectError(call(request), code, field);
    const skipped = await local.unary<unknown, RetrievePointsResponse>("retrievePoints", {
      ...tItem(float32Tensor([M, M], nan), { key: "bad" }),
      invalidPolicy: InvalidPolicy.INVALID_POLICY_SKIP,
    });
    assert.deepEqual(
      [skipped.results[0]!.issue?.reason, skipped.results[0]!.issue?.field, skipped.results[0]!.key],
      ["invalid_transition", "items[0].transition.transition", "bad"],
    );
    assert.equal(await checkHealth(address, SERVICE_PROTOS.retrieval.fullName), "SERVING");
    const exposition = await scrapeMetrics("127.0.0.1", services[0]!.metricsPort);
    assert.ok((metricSample(exposition, "exits_retrieval_points_total", { set: "seed_foreground" }) ?? 0) > 0);
    assert.ok((metricSample(exposition, "exits_onnx_run_seconds_count", { graph: "walk" }) ?? 0) > 0);
  });
});
