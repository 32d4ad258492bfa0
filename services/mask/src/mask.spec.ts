// MaskService over real gRPC on loopback with a tiny generator in a temp data directory: masks
// equal the in-process library's, unary = stream, batching across calls, bounded queue,
// deadlines, hot-published versions, UNAVAILABLE while loading, and bad input.
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ExecutionProvider,
  type ImageMasks,
  type ModelInfo,
  ModelKind,
  type PredictMasksRequest,
  type PredictMasksResponse,
} from "@exits/contracts";
import { encodeMask, writeSyntheticDataset } from "@exits/dataset";
import { cropMaskPredictor, loadModel, MaskPredictor, type MethodObject, ObjectSet } from "@exits/exits";
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
  extremePointsToWire,
  type ModelLoader,
  remoteMaskPredictor,
  writeTinyGenerator,
} from "@exits/serving";
import * as grpc from "@grpc/grpc-js";
import { CrfModule } from "../../crf/src/crf.module.js";
import { startMaskService } from "./mask.service-spec.js";

const SERVICE = "exits.v1.MaskService";
const baseEnv = (dataDir: string, extra: Record<string, string> = {}) =>
  loopbackServiceEnv(dataDir, { EXITS_MODEL_POLL_MS: "50", ...extra });

interface Fixture {
  dir: string;
  set: ObjectSet;
}

async function fixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "exits-mask-"));
  const data = await writeSyntheticDataset({ out: join(dir, "datasets/syn"), images: 3, seed: 11 });
  const set = await ObjectSet.read(data.annotationsFile, data.imageDir, { points: "annotation" });
  await writeTinyGenerator(dir, "models/generator/v1", 1);
  return { dir, set };
}

/** PredictMasks request of some objects, images by data-dir path, grouped as the set orders them. */
function requestOf(set: ObjectSet, objects: readonly MethodObject[], extra: Partial<PredictMasksRequest> = {}) {
  const byImage = new Map<number, MethodObject[]>();
  for (const o of objects) byImage.set(o.imageId, [...(byImage.get(o.imageId) ?? []), o]);
  return {
    images: [...byImage].map(([imageId, list]) => ({
      image: { path: `datasets/syn/images/${set.image(imageId).file_name}` },
      key: String(imageId),
      objects: list.map((o) => {
        return {
          extremePoints: extremePointsToWire(o.points),
          categoryId: o.categoryId,
          key: String(o.id),
        };
      }),
    })),
    model: "",
    includeProbabilities: false,
    invalidPolicy: 0,
    ...extra,
  } as PredictMasksRequest;
}

const masksOf = (images: ImageMasks[]) => images.flatMap((im) => im.masks.map((m) => [m.rle?.counts, m.score]));

async function grpcCode(p: Promise<unknown>): Promise<{ code: string; details: string }> {
  try {
    await p;
  } catch (e) {
    const error = e as grpc.ServiceError;
    return { code: grpc.status[error.code] ?? String(error.code), details: error.details };
  }
  return { code: "OK", details: "" };
}

async function collect(client: ContractClient, request: PredictMasksRequest): Promise<ImageMasks[]> {
  const out: ImageMasks[] = [];
  for await (const m of client.stream<PredictMasksRequest, ImageMasks>("predictMasksStream", request)) out.push(m);
  return out;
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("MaskService over gRPC", () => {
  let fx: Fixture;
  let service: RunningService;
  let client: ContractClient;
  let address: string;

  before(async () => {
    fx = await fixture();
    service = await startMaskService(baseEnv(fx.dir, { EXITS_GRPC_MAX_MESSAGE_MB: "1" }));
    address = `127.0.0.1:${service.grpcPort}`;
    client = new ContractClient("mask", address);
    await until("SERVING", async () => (await checkHealth(address, SERVICE)) === "SERVING");
  });
  after(async () => {
    client?.close();
    await service?.shutdown("test over");
  });

  test("GetModelInfo: the served generator's shapes, weights hash and the provider its session runs on", async () => {
    const info = await client.unary<{ model: string }, ModelInfo>("getModelInfo", { model: "" });
    const { manifest } = await loadModel(join(fx.dir, "models/generator/v1"), "generator");
    assert.equal(info.kind, ModelKind.MODEL_KIND_GENERATOR);
    assert.equal(info.path, "models/generator/v1");
    assert.equal(info.cropSize, manifest.config.crop.size);
    assert.equal(info.maskResolution, manifest.config.crop.size / manifest.config.crop.maskStride);
    assert.equal(info.provider, ExecutionProvider.EXECUTION_PROVIDER_CPU);
    assert.equal(info.ready, true);
    assert.match(info.weightsSha256, /^[0-9a-f]{64}$/);
  });

  test("crf_refine: in process and through a CrfService give the same refined masks", async () => {
    const request = requestOf(fx.set, fx.set.objects, {
      config: { crfRefine: true, crf: { iterations: 5 } },
    } as Partial<PredictMasksRequest>);
    const plain = await client.unary<PredictMasksRequest, PredictMasksResponse>(
      "predictMasks",
      requestOf(fx.set, fx.set.objects),
    );
    const local = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request);
    assert.equal(local.config?.crfRefine, true);
    assert.equal(local.config?.crf?.iterations, 5);
    assert.notDeepEqual(masksOf(local.images), masksOf(plain.images), "refinement changes the masks");
    const crf = await startGrpcService(contractServiceSpec("crf", CrfModule), baseEnv(fx.dir));
    const viaCrf = await startMaskService(baseEnv(fx.dir, { EXITS_CRF_ADDRESS: `127.0.0.1:${crf.grpcPort}` }));
    const other = new ContractClient("mask", `127.0.0.1:${viaCrf.grpcPort}`);
    try {
      const remote = await other.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request);
      assert.deepEqual(masksOf(remote.images), masksOf(local.images));
      const refined = metricSample(await scrapeMetrics("127.0.0.1", crf.metricsPort), "exits_crf_items_total", {});
      assert.equal(refined, fx.set.objects.length, "the CrfService refined every object");
    } finally {
      other.close();
      await viaCrf.shutdown("test over");
      await crf.shutdown("test over");
    }
  });

  test("unary and stream give identical masks, equal to the in-process library; remote predictor too", async () => {
    const request = requestOf(fx.set, fx.set.objects, { includeProbabilities: true });
    const unary = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request);
    const stream = await collect(client, request);
    assert.equal(unary.model, "models/generator/v1");
    assert.deepEqual(masksOf(stream), masksOf(unary.images));
    assert.deepEqual(
      stream.map((s) => s.imageIndex),
      request.images.map((_, i) => i),
    );
    const { manifest, parameters } = await loadModel(join(fx.dir, "models/generator/v1"), "generator");
    const local = await MaskPredictor.create(manifest.config, parameters, 4, { runtime: { executionProvider: "cpu" } });
    try {
      const expected = await cropMaskPredictor(local, manifest.config).predictObjects(fx.set, fx.set.objects);
      const got = unary.images.flatMap((im) => im.masks);
      assert.equal(got.length, fx.set.objects.length);
      got.forEach((m, k) => {
        assert.equal(m.rle!.counts, encodeMask(expected[k]!.mask).counts as string, `object ${k}`);
        assert.ok(Math.abs(m.score - expected[k]!.score) < 1e-5);
        assert.equal(
          m.area,
          expected[k]!.mask.data.reduce((a, b) => a + b, 0),
        );
        assert.equal(m.categoryId, fx.set.objects[k]!.categoryId);
        assert.equal(m.probabilities!.data.length, 4 * m.probabilities!.shape[0]! * m.probabilities!.shape[1]!);
      });
      assert.ok(
        got.some((m) => m.area > 0),
        "some mask is non-empty",
      );
      const remote = await remoteMaskPredictor(client, { dataDir: fx.dir }).predictObjects(fx.set, fx.set.objects);
      remote.forEach((m, k) => {
        assert.deepEqual(m.mask.data, expected[k]!.mask.data);
        assert.ok(Math.abs(m.score - expected[k]!.score) < 1e-5);
      });
      // Images outside the data directory travel as bytes.
      const bytes = await remoteMaskPredictor(client).predictObjects(fx.set, fx.set.objects.slice(0, 2));
      assert.deepEqual(bytes[1]!.mask.data, expected[1]!.mask.data);
    } finally {
      await local.release();
    }
  });

  test("concurrent calls are batched together, with the same masks as one by one", async () => {
    const one = fx.set.objects.slice(0, 8).map((o) => requestOf(fx.set, [o]));
    const sequential: unknown[] = [];
    for (const r of one)
      sequential.push(
        masksOf((await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", r)).images),
      );
    const before = await scrapeMetrics("127.0.0.1", service.metricsPort);
    const runsBefore = metricSample(before, "exits_mask_batch_size_count", {}) ?? 0;
    const concurrent = await Promise.all(
      one.map((r) => client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", r)),
    );
    const afterScrape = await scrapeMetrics("127.0.0.1", service.metricsPort);
    const runs = (metricSample(afterScrape, "exits_mask_batch_size_count", {}) ?? 0) - runsBefore;
    assert.ok(runs < one.length, `${one.length} single-object calls ran in ${runs} graph runs`);
    assert.deepEqual(
      concurrent.map((c) => masksOf(c.images)),
      sequential,
    );
  });

  test("a newly published version is picked up without restart; `model` pins v1", async () => {
    const request = requestOf(fx.set, fx.set.objects.slice(0, 3));
    const v1 = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request);
    await writeTinyGenerator(fx.dir, "models/generator/v2", 2);
    let v2: PredictMasksResponse | undefined;
    await until("v2 served", async () => {
      v2 = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", request);
      return v2.model === "models/generator/v2";
    });
    assert.notDeepEqual(masksOf(v2!.images), masksOf(v1.images));
    const pinned = { ...request, model: "models/generator/v1" };
    let again: PredictMasksResponse | undefined;
    await until("v1 loaded again", async () => {
      const r = await grpcCode(
        client
          .unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", pinned, { retryUnavailableMs: 0 })
          .then((x) => {
            again = x;
          }),
      );
      assert.ok(["OK", "UNAVAILABLE"].includes(r.code), `${r.code} ${r.details}`);
      return r.code === "OK";
    });
    assert.equal(again!.model, "models/generator/v1");
    assert.deepEqual(masksOf(again!.images), masksOf(v1.images));
    const info = await client.unary<{ model: string }, { path: string; ready: boolean; weightsSha256: string }>(
      "getModelInfo",
      { model: "" },
    );
    assert.equal(info.path, "models/generator/v2");
    assert.equal(info.ready, true);
    assert.match(info.weightsSha256, /^[0-9a-f]{64}$/);
  });

  test("bad input: the right status naming the problem, then health SERVING", async () => {
    const good = requestOf(fx.set, fx.set.objects.slice(0, 1));
    const goodObject = good.images[0]!.objects[0]!;
    const png = await readFile(join(fx.dir, "datasets/syn/images", fx.set.image(fx.set.objects[0]!.imageId).file_name));
    const withImage = (image: object) => ({ ...good, images: [{ ...good.images[0]!, image }] });
    const withPoints = (extremePoints: object) => ({
      ...good,
      images: [{ ...good.images[0]!, objects: [{ ...goodObject, extremePoints }] }],
    });
    const p = goodObject.extremePoints!;
    const cases: Array<[string, object, string, RegExp]> = [
      ["empty bytes", withImage({ encoded: new Uint8Array(0) }), "INVALID_ARGUMENT", /images\[0\]\.image\.encoded/],
      ["corrupt png", withImage({ encoded: png.subarray(0, 60) }), "INVALID_ARGUMENT", /images\[0\]\.image\.encoded/],
      ["unsupported bytes", withImage({ encoded: Buffer.from("GIF89a....") }), "INVALID_ARGUMENT", /PNG nor JPEG/],
      ["path escape", withImage({ path: "../etc/passwd" }), "INVALID_ARGUMENT", /images\[0\]\.image\.path/],
      ["absolute path", withImage({ path: "/etc/passwd" }), "INVALID_ARGUMENT", /images\[0\]\.image\.path/],
      ["missing file", withImage({ path: "datasets/none.png" }), "NOT_FOUND", /images\[0\]\.image\.path/],
      [
        "point outside",
        withPoints({ ...p, right: { x: 10_000, y: p.right!.y } }),
        "INVALID_ARGUMENT",
        /extreme_points\.right/,
      ],
      [
        "box of 2 px",
        withPoints({ top: { x: 5, y: 5 }, left: { x: 5, y: 5 }, bottom: { x: 5, y: 6 }, right: { x: 6, y: 6 } }),
        "INVALID_ARGUMENT",
        /at least 3 px/,
      ],
      ["missing point", withPoints({ ...p, bottom: undefined }), "INVALID_ARGUMENT", /extreme_points\.bottom/],
      ["NaN", withPoints({ ...p, top: { x: Number.NaN, y: 1 } }), "INVALID_ARGUMENT", /extreme_points\.top.*finite/],
      [
        "Infinity",
        withPoints({ ...p, left: { x: Number.POSITIVE_INFINITY, y: 1 } }),
        "INVALID_ARGUMENT",
        /extreme_points\.left/,
      ],
      [
        "10 000 objects",
        { ...good, images: [{ ...good.images[0]!, objects: new Array(10_000).fill(goodObject) }] },
        "INVALID_ARGUMENT",
        /images: .*10000 objects; at most 1024/,
      ],
      ["model escape", { ...good, model: "../models" }, "INVALID_ARGUMENT", /model/],
      ["model absent", { ...good, model: "models/none" }, "NOT_FOUND", /models\/none/],
      ["paste threshold", { ...good, config: { pasteThreshold: 1.5 } }, "INVALID_ARGUMENT", /config\.paste_threshold/],
      [
        "margin",
        { ...good, config: { crop: { inferenceMargin: -1 } } },
        "INVALID_ARGUMENT",
        /config\.crop\.inference_margin/,
      ],
      ["crop size", { ...good, config: { crop: { cropSize: 64 } } }, "INVALID_ARGUMENT", /config\.crop\.crop_size/],
      ["over the message limit", withImage({ encoded: new Uint8Array(2 * 1024 * 1024) }), "RESOURCE_EXHAUSTED", /./],
    ];
    for (const [name, request, code, message] of cases) {
      const r = await grpcCode(client.unary("predictMasks", request));
      assert.equal(r.code, code, `${name}: ${r.code} ${r.details}`);
      assert.match(r.details, message, name);
      assert.equal(await checkHealth(address, SERVICE), "SERVING", `after ${name}`);
    }
    // SKIP: the bad object becomes an issue, the good one still gets its mask.
    const skip = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", {
      ...good,
      invalidPolicy: 2,
      images: [
        { ...good.images[0]!, objects: [{ ...goodObject, extremePoints: { ...p, bottom: undefined } }, goodObject] },
      ],
    });
    assert.equal(skip.images[0]!.masks[0]!.issue!.reason, "missing_extreme_points");
    assert.equal(skip.images[0]!.masks[0]!.issue!.field, "images[0].objects[0].extreme_points.bottom");
    assert.ok(skip.images[0]!.masks[1]!.rle!.counts.length > 0);
    // Bytes that are not a protobuf.
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const malformed = await grpcCode(
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          `/${SERVICE}/PredictMasks`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
          (e, v) => (e ? reject(e) : resolve(v)),
        ),
      ),
    );
    raw.close();
    assert.equal(malformed.code, "INVALID_ARGUMENT", malformed.details);
    assert.equal(await checkHealth(address, SERVICE), "SERVING");
  });
});

describe("MaskService queue, deadlines and loading", () => {
  test("full queue → RESOURCE_EXHAUSTED; an expired call's objects are dropped, not computed", async () => {
    const fx = await fixture();
    const service = await startMaskService(
      baseEnv(fx.dir, { EXITS_MASK_MAX_QUEUE: "6", EXITS_MASK_MAX_QUEUE_DELAY_MS: "1000", EXITS_MASK_MAX_BATCH: "64" }),
    );
    const client = new ContractClient("mask", `127.0.0.1:${service.grpcPort}`);
    try {
      await until("SERVING", async () => (await checkHealth(`127.0.0.1:${service.grpcPort}`, SERVICE)) === "SERVING");
      const four = requestOf(fx.set, fx.set.objects.slice(0, 4));
      const metrics = () => scrapeMetrics("127.0.0.1", service.metricsPort);
      const first = client.unary("predictMasks", four);
      // Wait until its four objects sit in the queue (decoding may take a while on a busy machine).
      await until("4 objects queued", async () => metricSample(await metrics(), "exits_mask_queue_depth", {}) === 4);
      const full = await grpcCode(client.unary("predictMasks", four));
      assert.equal(full.code, "RESOURCE_EXHAUSTED", full.details);
      assert.match(full.details, /queue is full/);
      assert.equal((await grpcCode(first)).code, "OK");

      const masksBefore = metricSample(await metrics(), "exits_mask_masks_total", {}) ?? 0;
      const late = await grpcCode(
        client.unary("predictMasks", requestOf(fx.set, fx.set.objects.slice(0, 3)), { timeoutMs: 300 }),
      );
      assert.equal(late.code, "DEADLINE_EXCEEDED");
      // The batch would run 1 s after the objects were queued; by then their call has expired.
      await until(
        "3 objects dropped",
        async () => metricSample(await metrics(), "exits_mask_dropped_total", { reason: "deadline" }) === 3,
      );
      const m = await metrics();
      assert.equal(metricSample(m, "exits_mask_masks_total", {}) ?? 0, masksBefore, "no mask computed for it");
      assert.equal(metricSample(m, "exits_mask_queue_depth", {}), 0);
    } finally {
      client.close();
      await service.shutdown("test over");
    }
  });

  test("UNAVAILABLE and NOT_SERVING while the default model loads, then SERVING", async () => {
    const fx = await fixture();
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const loader: ModelLoader = async (dir, kind) => {
      await gate;
      return loadModel(dir, kind);
    };
    const service = await startMaskService(baseEnv(fx.dir), { loader });
    const address = `127.0.0.1:${service.grpcPort}`;
    const client = new ContractClient("mask", address);
    try {
      assert.equal(await checkHealth(address, SERVICE), "NOT_SERVING");
      const r = await grpcCode(
        client.unary("predictMasks", requestOf(fx.set, fx.set.objects.slice(0, 1)), { retryUnavailableMs: 0 }),
      );
      assert.equal(r.code, "UNAVAILABLE", r.details);
      assert.match(r.details, /still loading/);
      const info = await client.unary<{ model: string }, { ready: boolean; path: string }>("getModelInfo", {
        model: "",
      });
      assert.equal(info.ready, false);
      // A client that retries UNAVAILABLE (ContractClient's default) simply waits for the model.
      const patient = client.unary<PredictMasksRequest, PredictMasksResponse>(
        "predictMasks",
        requestOf(fx.set, fx.set.objects.slice(0, 1)),
      );
      await new Promise((r) => setTimeout(r, 300));
      open();
      assert.equal((await patient).images[0]!.masks.length, 1);
      await until("SERVING", async () => (await checkHealth(address, SERVICE)) === "SERVING");
      assert.equal(
        (await grpcCode(client.unary("predictMasks", requestOf(fx.set, fx.set.objects.slice(0, 1))))).code,
        "OK",
      );
      const exposition = await scrapeMetrics("127.0.0.1", service.metricsPort);
      assert.equal(metricSample(exposition, "exits_model_load_seconds_count", {}), 1);
    } finally {
      client.close();
      await service.shutdown("test over");
    }
  });
});
