// CrfService over real gRPC on loopback: Refine equals the library's meanFieldCrf graph on the same
// inputs, the three colour sources agree, GetDefaults, and bad input naming the field.
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CrfDefaults, DType, type RefineResponse, SERVICE_PROTOS } from "@exits/contracts";
import { createRgbImage, encodePng } from "@exits/dataset";
import { IMAGENET_MEAN, IMAGENET_STD } from "@exits/exits";
import { input } from "@exits/graph";
import { meanFieldCrf } from "@exits/models";
import {
  checkHealth,
  contractServiceSpec,
  loopbackServiceEnv,
  metricSample,
  type RunningService,
  scrapeMetrics,
  startGrpcService,
} from "@exits/platform";
import { compileGraph } from "@exits/runtime";
import { ContractClient, float32Tensor, uint8Tensor } from "@exits/serving";
import { type ServiceError, status } from "@grpc/grpc-js";
import { CrfModule } from "./crf.module.js";

const H = 12;
const W = 12;

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

describe("CrfService over real gRPC", () => {
  let service: RunningService;
  let client: ContractClient;
  let address: string;
  // A two-colour image: left half dark red, right half light blue; a noisy map leaning to the left half.
  const rgb = new Uint8Array(H * W * 3);
  const prob = new Float32Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const left = x < W / 2;
      rgb.set(left ? [150, 20, 20] : [120, 180, 240], (y * W + x) * 3);
      prob[y * W + x] = Math.min(1, Math.max(0, (left ? 0.65 : 0.35) + 0.25 * Math.sin(x * 7 + y * 3)));
    }
  const box = { x0: 1, y0: 1, x1: 11, y1: 11 };

  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "exits-crf-"));
    const env = loopbackServiceEnv(dataDir, { EXITS_MAX_OBJECTS_PER_REQUEST: "16" });
    service = await startGrpcService(contractServiceSpec("crf", CrfModule), env);
    address = `127.0.0.1:${service.grpcPort}`;
    client = new ContractClient("crf", address);
  });

  after(async () => {
    client?.close();
    await service?.shutdown("test over");
  });

  const item = (colours: unknown, extra: Record<string, unknown> = {}) => ({
    probabilities: float32Tensor([H, W], prob),
    colours,
    box,
    key: "a",
    ...extra,
  });
  const config = { iterations: 5 };

  test("GetDefaults: MAL's settings, every field set, and the provider ONNX Runtime opened", async () => {
    const d = await client.unary<unknown, CrfDefaults>("getDefaults", {});
    const { zeta, iterations, clampMin, clampMax, kernelSize, binarizeThreshold } = d.config!;
    assert.deepEqual(
      { zeta, iterations, clampMin, clampMax, kernelSize, binarizeThreshold },
      { zeta: 0.1, iterations: 100, clampMin: 0.1, clampMax: 0.9, kernelSize: 3, binarizeThreshold: 0.5 },
    );
    assert.equal(d.provider, 2);
  });

  test("Refine equals meanFieldCrf on [0, 1] RGB; uint8, normalised float and image-crop colours agree", async () => {
    const n = H * W;
    const chw = new Float32Array(3 * n);
    const normalised = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < n; i++) {
        chw[c * n + i] = rgb[i * 3 + c]! / 255;
        normalised[c * n + i] = (rgb[i * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
      }
    const boxMask = new Float32Array(n);
    for (let y = 1; y < 11; y++) for (let x = 1; x < 11; x++) boxMask[y * W + x] = 1;
    const refined = meanFieldCrf(input("p", [1, H, W]), input("i", [1, 3, H, W]), input("b", [1, H, W]), {
      iterations: 5,
      binarize: false,
    });
    const g = await compileGraph({ refined }, { config: { executionProvider: "cpu", intraOpNumThreads: 1 } });
    const want = (
      await g.run({
        p: { dtype: "float32", shape: [1, H, W], data: prob },
        i: { dtype: "float32", shape: [1, 3, H, W], data: chw },
        b: { dtype: "float32", shape: [1, H, W], data: boxMask },
      })
    ).refined!.data as Float32Array;
    await g.release();
    const image = createRgbImage(W, H);
    image.data.set(rgb);
    const png = await encodePng(image);
    const reply = await client.unary<unknown, RefineResponse>("refine", {
      items: [
        item({ rgb: uint8Tensor([H, W, 3], rgb) }),
        item({ rgb: float32Tensor([3, H, W], normalised) }, { key: "b" }),
        item(
          {
            imageCrop: {
              image: { encoded: png },
              crop: { box: { x0: 0, y0: 0, x1: W, y1: H }, size: H, imageWidth: W, imageHeight: H },
            },
          },
          { key: "c" },
        ),
      ],
      config,
      includeProbabilities: true,
    });
    assert.equal(reply.config?.iterations, 5);
    assert.deepEqual(
      reply.results.map((r) => r.key),
      ["a", "b", "c"],
    );
    for (const r of reply.results) {
      assert.equal(r.iterations, 5);
      const p = floats(r.probabilities);
      for (let i = 0; i < n; i++)
        assert.ok(Math.abs(p[i]! - want[i]!) < 1e-4, `${r.key} p[${i}] ${p[i]} vs ${want[i]}`);
      const mask = new Uint8Array(r.mask!.data);
      assert.deepEqual(r.mask?.shape, [H, W]);
      for (let i = 0; i < n; i++) assert.equal(mask[i], want[i]! > 0.5 ? 1 : 0);
      for (let x = 0; x < W; x++) assert.equal(mask[x], 0, "outside the box is background");
    }
    const fg = new Uint8Array(reply.results[0]!.mask!.data);
    assert.ok(fg.reduce((a, b) => a + b, 0) > 0, "some foreground");
    // A different threshold moves the mask only where p crosses it.
    const strict = await client.unary<unknown, RefineResponse>("refine", {
      items: [item({ rgb: uint8Tensor([H, W, 3], rgb) })],
      config: { ...config, binarizeThreshold: 0.85 },
    });
    const m2 = new Uint8Array(strict.results[0]!.mask!.data);
    for (let i = 0; i < n; i++) assert.equal(m2[i], want[i]! > 0.85 ? 1 : 0);
    assert.equal(strict.results[0]!.probabilities, null);
  });

  test("bad input: right code naming the field; health SERVING afterwards", async () => {
    const good = { rgb: uint8Tensor([H, W, 3], rgb) };
    const call = (request: unknown) => client.unary("refine", request, { timeoutMs: 10_000 });
    const one = (x: unknown, extra: Record<string, unknown> = {}) => ({ items: [x], config, ...extra });
    const outOfRange = prob.slice();
    outOfRange[5] = 1.5;
    const cases: Array<[unknown, keyof typeof status, RegExp]> = [
      [
        one(
          item(good, { probabilities: { shape: [H, W], dtype: DType.DTYPE_FLOAT64, data: Buffer.alloc(8 * H * W) } }),
        ),
        "INVALID_ARGUMENT",
        /items\[0\]\.probabilities: dtype must be DTYPE_FLOAT32/,
      ],
      [
        one(
          item(good, {
            probabilities: { shape: [H, W, 1], dtype: DType.DTYPE_FLOAT32, data: Buffer.alloc(4 * H * W) },
          }),
        ),
        "INVALID_ARGUMENT",
        /items\[0\]\.probabilities: shape must be/,
      ],
      [
        one(item(good, { probabilities: { shape: [H, W], dtype: DType.DTYPE_FLOAT32, data: Buffer.alloc(7) } })),
        "INVALID_ARGUMENT",
        /items\[0\]\.probabilities: data holds 7 bytes/,
      ],
      [
        one(item(good, { probabilities: float32Tensor([H, W], outOfRange) })),
        "INVALID_ARGUMENT",
        /items\[0\]\.probabilities: element 5 is 1\.5/,
      ],
      [
        one(item({ rgb: uint8Tensor([H, W, 4], new Uint8Array(H * W * 4)) })),
        "INVALID_ARGUMENT",
        /items\[0\]\.colours\.rgb: shape must be \[12, 12, 3\]/,
      ],
      [
        one(item({ rgb: { shape: [3, H, W], dtype: DType.DTYPE_INT32, data: Buffer.alloc(4 * 3 * H * W) } })),
        "INVALID_ARGUMENT",
        /items\[0\]\.colours\.rgb: dtype must be/,
      ],
      [one(item({})), "INVALID_ARGUMENT", /items\[0\]\.colours: is missing/],
      [one(item(good, { box: undefined })), "INVALID_ARGUMENT", /items\[0\]\.box: is missing/],
      [
        one(item(good, { box: { x0: 5, y0: 1, x1: 5, y1: 9 } })),
        "INVALID_ARGUMENT",
        /items\[0\]\.box\.x1: must be > x0/,
      ],
      [
        one(item(good, { box: { x0: Number.NaN, y0: 1, x1: 5, y1: 9 } })),
        "INVALID_ARGUMENT",
        /items\[0\]\.box\.x0: must be finite/,
      ],
      [
        one(item({ imageCrop: { image: { encoded: Buffer.from("junk bytes") }, crop: { box, size: H } } })),
        "INVALID_ARGUMENT",
        /items\[0\]\.colours\.image_crop\.image\.encoded/,
      ],
      [
        one(item({ imageCrop: { image: { path: "/etc/passwd" }, crop: { box, size: H } } })),
        "INVALID_ARGUMENT",
        /image_crop\.image\.path: .*absolute/,
      ],
      [
        one(item({ imageCrop: { image: { path: "a/../../b.png" }, crop: { box, size: H } } })),
        "INVALID_ARGUMENT",
        /image_crop\.image\.path: .*"\.\."/,
      ],
      [
        one(item({ imageCrop: { image: { path: "x.png" }, crop: { box, size: 64 } } })),
        "INVALID_ARGUMENT",
        /image_crop\.crop\.size: must be/,
      ],
      [
        { items: Array.from({ length: 10_000 }, () => ({})) },
        "INVALID_ARGUMENT",
        /^items: holds 10000 items; at most 16/,
      ],
      [one(item(good), { config: { zeta: 0 } }), "INVALID_ARGUMENT", /config\.zeta/],
      [one(item(good), { config: { iterations: 0 } }), "INVALID_ARGUMENT", /config\.iterations/],
      [one(item(good), { config: { clampMin: 0.7 } }), "INVALID_ARGUMENT", /config\.clamp_min/],
      [one(item(good), { config: { kernelSize: 4 } }), "INVALID_ARGUMENT", /config\.kernel_size/],
      [one(item(good), { config: { binarizeThreshold: 1 } }), "INVALID_ARGUMENT", /config\.binarize_threshold/],
      [one(item(good), { fill: 2 }), "INVALID_ARGUMENT", /^fill: only FILL_MODE_MIRROR/],
    ];
    for (const [request, code, field] of cases) await expectError(call(request), code, field);
    assert.equal(await checkHealth(address, SERVICE_PROTOS.crf.fullName), "SERVING");
    const exposition = await scrapeMetrics("127.0.0.1", service.metricsPort);
    assert.ok((metricSample(exposition, "exits_crf_items_total", {}) ?? 0) >= 4);
    assert.ok((metricSample(exposition, "exits_onnx_run_seconds_count", { graph: "crf" }) ?? 0) >= 2);
  });
});
