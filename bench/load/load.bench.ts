// Load bench of MaskService (a script, not a test): concurrent clients on loopback for N seconds,
// with and without dynamic batching, and the same calls in process (no gRPC) for the overhead;
// plus batch buckets vs one session per exact batch size.
//   npm run bench:load -- --json FILE [--seconds 30] [--clients 8]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { PredictMasksRequest, PredictMasksResponse } from "@exits/contracts";
import { writeSyntheticDataset } from "@exits/dataset";
import { canonicalCrop, initGeneratorParams, MaskPredictor, type MethodObject, ObjectSet } from "@exits/exits";
import { loopbackServiceEnv } from "@exits/platform";
import { startMaskService } from "@exits/service-mask";
import {
  ContractClient,
  DataPaths,
  extremePointsToWire,
  MaskInference,
  ModelRegistry,
  tinyGeneratorConfig,
  writeTinyGenerator,
} from "@exits/serving";

const { values } = parseArgs({
  options: {
    json: { type: "string" },
    seconds: { type: "string", default: "30" },
    clients: { type: "string", default: "8" },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);

interface Run {
  mode: string;
  seconds: number;
  clients: number;
  calls: number;
  masks: number;
  masksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  rssGrowthPercent: number;
  heapGrowthPercent: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : Number.NaN;
};

function requestOf(set: ObjectSet, imageId: number, objects: readonly MethodObject[]): PredictMasksRequest {
  return {
    images: [
      {
        image: { path: `datasets/syn/images/${set.image(imageId).file_name}` },
        key: String(imageId),
        objects: objects.map((o) => {
          return {
            extremePoints: extremePointsToWire(o.points),
            categoryId: o.categoryId,
            key: String(o.id),
          };
        }),
      },
    ],
    model: "",
    includeProbabilities: false,
    invalidPolicy: 0,
  };
}

/** `clients` loops, each sending its requests round-robin until time is up. */
async function drive(
  mode: string,
  requests: PredictMasksRequest[],
  call: (r: PredictMasksRequest) => Promise<number>,
): Promise<Run> {
  // Warm-up: every bucket compiled, caches filled, before memory is measured.
  for (let i = 0; i < 3; i++) await Promise.all(requests.map(call));
  global.gc?.();
  const m0 = process.memoryUsage();
  const latencies: number[] = [];
  let masks = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < end; i += clients) {
        const start = performance.now();
        try {
          // Not `masks += await …`: that reads `masks` before the await and loses concurrent updates.
          const n = await call(requests[i % requests.length]!);
          masks += n;
          latencies.push(performance.now() - start);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  global.gc?.();
  const m1 = process.memoryUsage();
  return {
    mode,
    seconds: elapsed,
    clients,
    calls: latencies.length,
    masks,
    masksPerSecond: masks / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    errors,
    rssGrowthPercent: (100 * (m1.rss - m0.rss)) / m0.rss,
    heapGrowthPercent: (100 * (m1.heapUsed - m0.heapUsed)) / m0.heapUsed,
  };
}

async function grpcRun(mode: string, dir: string, delayMs: string, requests: PredictMasksRequest[]): Promise<Run> {
  const service = await startMaskService(
    loopbackServiceEnv(dir, { EXITS_INTRA_OP_THREADS: "2", EXITS_MASK_MAX_QUEUE_DELAY_MS: delayMs }),
  );
  const client = new ContractClient("mask", `127.0.0.1:${service.grpcPort}`);
  try {
    for (let i = 0; i < 200; i++) {
      const r = await client
        .unary<{ model: string }, { ready: boolean }>("getModelInfo", { model: "" })
        .catch(() => ({ ready: false }));
      if (r.ready) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    return await drive(mode, requests, async (r) => {
      const reply = await client.unary<PredictMasksRequest, PredictMasksResponse>("predictMasks", r);
      return reply.images.reduce((n, im) => n + im.masks.length, 0);
    });
  } finally {
    client.close();
    await service.shutdown("bench over");
  }
}

async function inProcessRun(dir: string, requests: PredictMasksRequest[]): Promise<Run> {
  const paths = new DataPaths(dir);
  const registry = new ModelRegistry({ paths, kind: "generator", defaultModel: "models/generator", pollMs: 0 });
  await registry.whenReady();
  const inference = new MaskInference({ registry, paths, runtime: { executionProvider: "cpu" } });
  try {
    return await drive("in process (batched, no gRPC)", requests, async (r) => {
      const { images } = await inference.predict(r);
      let n = 0;
      for await (const im of images) n += im.masks.length;
      return n;
    });
  } finally {
    await inference.close();
    await registry.close();
  }
}

/** Batch buckets vs one session per exact size: compile time, memory, throughput on odd sizes. */
async function sessionsRun(set: ObjectSet) {
  const c = tinyGeneratorConfig();
  const params = initGeneratorParams(c, 1);
  const image = await set.pixels(set.objects[0]!.imageId);
  const crops = Array.from({ length: 16 }, () => canonicalCrop(image, set.objects[0]!.points, c));
  const measure = async (sizes: number[], sessionFor: (n: number) => number) => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const sessions = new Map<number, MaskPredictor>();
    for (const s of new Set(sizes.map(sessionFor)))
      sessions.set(s, await MaskPredictor.create(c, params, s, { runtime: { executionProvider: "cpu" } }));
    const compileMs = performance.now() - t0;
    const rssMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
    const t1 = performance.now();
    let objects = 0;
    for (let rep = 0; rep < 20; rep++)
      for (const n of sizes) {
        await sessions.get(sessionFor(n))!.predict(crops.slice(0, n));
        objects += n;
      }
    const objectsPerSecond = objects / ((performance.now() - t1) / 1000);
    for (const s of sessions.values()) await s.release();
    return { sessions: sessions.size, compileMs, rssMiB, objectsPerSecond };
  };
  const sizes = Array.from({ length: 16 }, (_, i) => i + 1);
  const buckets = [1, 2, 4, 8, 16];
  return {
    sizes: "1..16, each 20 times",
    buckets: await measure(sizes, (n) => buckets.find((b) => b >= n)!),
    exact: await measure(sizes, (n) => n),
  };
}

const dir = await mkdtemp(join(tmpdir(), "exits-load-"));
try {
  const data = await writeSyntheticDataset({ out: join(dir, "datasets/syn"), images: 8, seed: 5 });
  const set = await ObjectSet.read(data.annotationsFile, data.imageDir, { points: "annotation" });
  await writeTinyGenerator(dir, "models/generator/v1", 1);
  const byImage = new Map<number, MethodObject[]>();
  for (const o of set.objects) byImage.set(o.imageId, [...(byImage.get(o.imageId) ?? []), o]);
  const requests = [...byImage].map(([id, objects]) => requestOf(set, id, objects));
  const runs: Run[] = [];
  runs.push(await grpcRun("gRPC, dynamic batching (delay 5 ms)", dir, "5", requests));
  runs.push(await grpcRun("gRPC, no batching across calls (delay 0)", dir, "0", requests));
  runs.push(await inProcessRun(dir, requests));
  const sessions = await sessionsRun(set);
  const overhead = 1 - runs[0]!.masksPerSecond / runs[2]!.masksPerSecond;
  console.table(
    runs.map((r) => ({
      mode: r.mode,
      "masks/s": r.masksPerSecond.toFixed(1),
      "p50 ms": r.p50Ms.toFixed(1),
      "p99 ms": r.p99Ms.toFixed(1),
      errors: r.errors,
      "RSS growth %": r.rssGrowthPercent.toFixed(1),
      "heap growth %": r.heapGrowthPercent.toFixed(1),
    })),
  );
  console.log(`gRPC overhead vs in process (throughput, batched): ${(100 * overhead).toFixed(1)} %`);
  console.table({ buckets: sessions.buckets, exact: sessions.exact });
  const result = {
    bench: "mask-service-load",
    seconds,
    clients,
    objectsPerCall: requests.map((r) => r.images[0]!.objects.length),
    model: "tiny generator (crop 32, patch 8, embed 32, depth 1)",
    runs,
    grpcOverheadPercent: 100 * overhead,
    sessions,
  };
  if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
