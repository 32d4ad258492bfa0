import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as protoLoader from "@grpc/proto-loader";
import { codegenPaths, diffGenerated, protocUnavailable } from "./codegen/generate.js";
import {
  DType,
  ExportJob,
  FillMode,
  JobState,
  ListJobsRequest,
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
  RetrievePointsRequest,
  ScoreScale,
  SERVICE_PROTOS,
  type ServiceShortName,
  SkipReason,
  StartTrainingJobRequest,
} from "./index.js";

const paths = codegenPaths();
const protocMissing = protocUnavailable(paths);

/**
 * The API, written out once more by hand: a proto edit that drops or renames an RPC, or turns a
 * stream into a unary call, must show up here. `stream` = server streaming.
 */
const EXPECTED_METHODS: Record<ServiceShortName, Record<string, "unary" | "stream">> = {
  similarity: { ExtractSimilarity: "unary", ExtractSimilarityStream: "stream", GetModelInfo: "unary" },
  retrieval: { RetrievePoints: "unary", GetDefaults: "unary" },
  trainer: {
    StartJob: "unary",
    WatchJob: "stream",
    GetJob: "unary",
    CancelJob: "unary",
    ListJobs: "unary",
    ResumeJob: "unary",
  },
  crf: { Refine: "unary", GetDefaults: "unary" },
  mask: { PredictMasks: "unary", PredictMasksStream: "stream", GetModelInfo: "unary" },
  exporter: {
    StartJob: "unary",
    WatchJob: "stream",
    GetJob: "unary",
    CancelJob: "unary",
    ListJobs: "unary",
    ListSkipped: "unary",
    ResumeJob: "unary",
  },
};

interface LoadedMethod {
  path: string;
  originalName?: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): Record<string, unknown>;
}

function loadService(name: ServiceShortName): Record<string, LoadedMethod> {
  const entry = SERVICE_PROTOS[name];
  const definition = protoLoader.loadSync(entry.protoFile, PROTO_LOADER_OPTIONS);
  const service = definition[entry.fullName];
  assert.ok(service, `${entry.fullName} is not defined by ${entry.protoFile}`);
  return service as unknown as Record<string, LoadedMethod>;
}

/** Method names listed by the generated `XxxServiceControllerMethods()` and `XxxServiceController`. */
function generatedControllerMethods(name: ServiceShortName): { decorated: string[]; declared: string[] } {
  const entry = SERVICE_PROTOS[name];
  const source = readFileSync(join(paths.generatedDir, entry.protoFile.replace(/\.proto$/, ".ts")), "utf8");
  const lists = [...source.matchAll(/const grpc(?:Stream)?Methods: string\[\] = \[([^\]]*)\]/g)];
  assert.equal(lists.length, 2, `${entry.serviceName}ControllerMethods not found`);
  const decorated = lists.flatMap((m) => [...(m[1] ?? "").matchAll(/"(\w+)"/g)].map((q) => q[1] as string));
  const body = source.match(new RegExp(`export interface ${entry.serviceName}Controller \\{([\\s\\S]*?)\\n\\}`));
  assert.ok(body, `interface ${entry.serviceName}Controller not found`);
  const declared = [...(body[1] ?? "").matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1] as string);
  return { decorated, declared };
}

/**
 * What the proto-loader object and the ts-proto object have in common: drops nulls (unset
 * message fields under `defaults: true`) and undefined, the virtual oneof properties that
 * `oneofs: true` adds (`source: "path"`, `_tauFg: "tauFg"`), and turns Buffers into arrays.
 */
function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(object)) {
    if (field === null || field === undefined) continue;
    const isOneofMarker = typeof field === "string" && field !== key && object[field] != null;
    if (isOneofMarker) continue;
    out[key] = comparable(field);
  }
  return out;
}

describe("generated TypeScript", () => {
  test("equals a fresh generation from proto/ (run `npm run contracts:generate` after editing a .proto)", {
    skip: protocMissing,
  }, () => {
    const differences = diffGenerated(paths);
    assert.deepEqual(differences, [], `out of date: ${differences.map((d) => `${d.problem} ${d.file}`).join(", ")}`);
  });

  test("PROTO_ROOT is the repository's proto/ directory", () => {
    assert.equal(PROTO_ROOT, paths.protoRoot);
    for (const entry of Object.values(SERVICE_PROTOS)) assert.ok(existsSync(join(PROTO_ROOT, entry.protoFile)));
  });
});

describe("services loaded with @grpc/proto-loader and PROTO_LOADER_OPTIONS", () => {
  for (const name of Object.keys(EXPECTED_METHODS) as ServiceShortName[]) {
    test(`${name}: ${SERVICE_PROTOS[name].fullName} has exactly the expected RPCs`, () => {
      const service = loadService(name);
      const actual = Object.fromEntries(
        Object.entries(service).map(([method, def]) => {
          assert.equal(def.requestStream, false, `${method}: no client streaming in exits.v1`);
          return [method, def.responseStream ? "stream" : "unary"];
        }),
      );
      assert.deepEqual(actual, EXPECTED_METHODS[name]);
      for (const [method, def] of Object.entries(service)) {
        assert.equal(def.path, `/${SERVICE_PROTOS[name].fullName}/${method}`);
      }
    });

    test(`${name}: every generated controller method is an RPC of the loaded service, and back`, () => {
      const service = loadService(name);
      const loaded = Object.values(service)
        .map((def) => def.originalName)
        .sort();
      const { decorated, declared } = generatedControllerMethods(name);
      assert.deepEqual([...declared].sort(), loaded, "Controller interface vs loaded service");
      assert.deepEqual([...decorated].sort(), loaded, "ControllerMethods() decorator vs loaded service");
    });
  }

  test("there are six services, each in its own file, all in package exits.v1", () => {
    const entries = Object.values(SERVICE_PROTOS);
    assert.equal(entries.length, 6);
    assert.equal(new Set(entries.map((e) => e.protoFile)).size, 6);
    for (const e of entries) assert.equal(e.fullName, `exits.v1.${e.serviceName}`);
  });
});

describe("objects crossing proto-loader have the ts-proto shapes", () => {
  const training = StartTrainingJobRequest.fromPartial({
    requestId: "req-1",
    spec: {
      displayName: "generator on coco-tiny",
      labels: { dataset: "coco-tiny", owner: "ci" },
      outputDir: "models/g1",
      generator: {
        dataset: { annotations: "datasets/coco-tiny/train.json", categoryIds: [1, 18], maxAnnotations: 0 },
        extractorModel: "models/e1",
        config: {
          crop: { cropSize: 512, inferenceMargin: 0.3, trainingMarginMax: 1.2, fill: FillMode.FILL_MODE_WRAP },
          retrieval: { seedShiftPatches: 1, alpha: 0, tauFg: 0.5, tauBg: -0.5, scoreScale: ScoreScale.SCORE_SCALE_RAW },
          loss: { lambdaCrf: 0.5, lambdaCrfWarmupSteps: 4000, diceEpsilon: 0.001 },
          crf: { zeta: 0.1, clampMin: 0.1, clampMax: 0.9, kernelSize: 3 },
          emaMomentum: 0.996,
          optimizer: { lr: 1.5e-4, beta1: 0.9, beta2: 0.9, weightDecay: 5e-4 },
          execution: { seed: 2 ** 40 + 3, intraOpThreads: 0 },
        },
      },
    },
  });
  const retrieval = RetrievePointsRequest.fromPartial({
    items: [
      {
        key: "ann-7",
        extremePoints: { top: { x: 10, y: 2 }, left: { x: 1, y: 9 }, bottom: { x: 12, y: 30 }, right: { x: 40, y: 8 } },
        transition: {
          transition: { shape: [4, 4], dtype: DType.DTYPE_FLOAT32, data: new Uint8Array(new Float32Array(16).buffer) },
          crop: { box: { x0: -3.5, y0: 0, x1: 44.25, y1: 31 }, size: 64, imageWidth: 640, imageHeight: 480 },
        },
      },
      { key: "ann-8", image: { encoded: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), width: 3 } },
    ],
    includeScores: true,
  });
  const job = ExportJob.fromPartial({
    jobId: "x1",
    status: { state: JobState.JOB_STATE_RUNNING, done: 5, total: 9, createdAtMs: 1_764_000_000_123 },
    report: { annotationsSkipped: 1, skippedByReason: [{ reason: SkipReason.SKIP_REASON_DEGENERATE_BOX, count: 1 }] },
    shards: [{ shardIndex: 0, status: { state: JobState.JOB_STATE_SUCCEEDED } }],
  });
  const list = ListJobsRequest.fromPartial({ states: [JobState.JOB_STATE_FAILED, JobState.JOB_STATE_INTERRUPTED] });

  const cases = [
    {
      name: "StartTrainingJobRequest",
      service: "trainer",
      method: "StartJob",
      value: training,
      codec: StartTrainingJobRequest,
    },
    {
      name: "RetrievePointsRequest",
      service: "retrieval",
      method: "RetrievePoints",
      value: retrieval,
      codec: RetrievePointsRequest,
    },
    { name: "ListJobsRequest", service: "exporter", method: "ListJobs", value: list, codec: ListJobsRequest },
  ] as const;

  for (const c of cases) {
    test(`${c.name}: ts-proto bytes → proto-loader object matches the ts-proto object`, () => {
      const method = loadService(c.service)[c.method]!;
      const bytes = (c.codec.encode as (m: unknown) => { finish(): Uint8Array })(c.value).finish();
      const loaded = method.requestDeserialize(Buffer.from(bytes));
      assert.deepEqual(comparable(loaded), comparable(c.value));
    });

    test(`${c.name}: ts-proto object → proto-loader bytes decode to the same object`, () => {
      const method = loadService(c.service)[c.method]!;
      const bytes = method.requestSerialize(c.value);
      assert.deepEqual(comparable((c.codec.decode as (b: Uint8Array) => unknown)(bytes)), comparable(c.value));
    });
  }

  test("ExportJob: enums stay numbers, int64 stays number, through a response codec", () => {
    const method = loadService("exporter")["GetJob"] as unknown as {
      responseSerialize(v: unknown): Buffer;
      responseDeserialize(b: Buffer): Record<string, unknown>;
    };
    const loaded = method.responseDeserialize(method.responseSerialize(job)) as {
      status: { state: unknown; createdAtMs: unknown };
    };
    assert.equal(loaded.status.state, JobState.JOB_STATE_RUNNING);
    assert.equal(loaded.status.createdAtMs, 1_764_000_000_123);
    assert.deepEqual(comparable(loaded), comparable(job));
  });

  test("proto3 optional: unset arrives undefined, an explicit 0 arrives as 0", () => {
    const method = loadService("trainer")["StartJob"]!;
    const loaded = method.requestDeserialize(method.requestSerialize(training)) as {
      spec: { generator: { config: { retrieval: Record<string, unknown>; crop: Record<string, unknown> } } };
    };
    const { retrieval: r, crop } = loaded.spec.generator.config;
    assert.equal(r["alpha"], 0, "explicit 0 must survive");
    assert.equal(crop["trainingMarginMin"], undefined, "unset must stay unset (→ default)");
    assert.equal(crop["flipProbability"], undefined);
  });

  test("bytes arrive as Buffer; an unset message field arrives as null (documented caveat)", () => {
    const method = loadService("retrieval")["RetrievePoints"]!;
    const loaded = method.requestDeserialize(method.requestSerialize(retrieval)) as {
      items: Array<{ transition: { transition: { data: unknown } } | null; image: { encoded: unknown } | null }>;
      config: unknown;
    };
    assert.ok(Buffer.isBuffer(loaded.items[0]!.transition!.transition.data));
    assert.ok(Buffer.isBuffer(loaded.items[1]!.image!.encoded));
    assert.equal(loaded.config, null);
  });
});
