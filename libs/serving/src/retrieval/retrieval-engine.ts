import type { Logger } from "@exits/base";
import {
  DType,
  type ExtractSimilarityResponse,
  type RetrievalItem,
  type RetrievedPoints,
  type RetrievePointsRequest,
  type RetrievePointsResponse,
  ScoreScale,
  type Tensor as WireTensor,
} from "@exits/contracts";
import {
  boxFromExtremePoints,
  boxToCrop,
  type CropMap,
  type ExtremePoints,
  extremePointsToCrop,
  type ObjectCrop,
} from "@exits/dataset";
import {
  type CropSeeds,
  compileWalk,
  cropSeeds,
  DEFAULT_METHOD_CONFIG,
  gridOf,
  type MethodConfig,
  seedDistributions,
  selectPatches,
} from "@exits/exits";
import { InvalidArgumentError, NotFoundError } from "@exits/platform";
import type { CompiledGraph, RuntimeConfig } from "@exits/runtime";
import type { ContractClient } from "../clients/contract-client.js";
import { present } from "../config/config-field.js";
import { applyCropConfig } from "../config/crop-config.js";
import { applyRetrievalConfig, retrievalConfigToWire } from "../config/retrieval-config.js";
import { applySimilarityConfig } from "../config/similarity-config.js";
import { extremePointsFromWire } from "../input/extreme-points-input.js";
import { decodeWireImage } from "../input/image-input.js";
import { ObjectInputError } from "../input/object-issue.js";
import type { ModelLease } from "../models/model-registry.js";
import type { DataPaths } from "../paths/data-paths.js";
import { bucketOf, chunks } from "../similarity/batch-buckets.js";
import { cropTransformFromWire, cropTransformToWire } from "../similarity/crop-transform-wire.js";
import type { GraphMetrics } from "../similarity/graph-metrics.js";
import {
  cutCrop,
  issueOf,
  type ModelSource,
  type SimilarityEngine,
  skipsInvalid,
} from "../similarity/similarity-engine.js";
import { firstNonFinite, float32Tensor, readWireTensor } from "../similarity/wire-tensor.js";

export interface RetrievalEngineOptions {
  paths: DataPaths;
  extractors: ModelSource;
  /** Where T comes from for image items: a SimilarityService client, else this engine in process. */
  similarity: { remote: ContractClient; timeoutMs?: number } | { local: SimilarityEngine };
  runtime?: Partial<RuntimeConfig>;
  maxBatch: number;
  maxObjects: number;
  metrics?: GraphMetrics;
  onPoints?: (
    set: "seed_foreground" | "seed_background" | "pseudo_foreground" | "pseudo_background",
    n: number,
  ) => void;
  logger?: Logger;
}

/** One item ready to walk: its crop geometry, seeds and T. */
interface Prepared {
  index: number;
  key: string;
  crop: ObjectCrop;
  image: { width: number; height: number };
  seeds: CropSeeds;
  grid: number;
  transition?: Float32Array;
  /** Image items: the crop pixels, until T is fetched. */
  pixels?: Float32Array;
}

/**
 * RetrievalService's work (method §3.3): for each item, T (given, or from the similarity
 * extractor for an image) and the extreme points → seeds P_FG / P_BG on the crop's grid → α-step
 * walks → N²(π_f − π_b) → P̂_FG / P̂_BG, exactly as libs/exits `selectPatches` thresholds them.
 */
export class RetrievalEngine {
  private readonly walks = new Map<string, Promise<CompiledGraph>>();

  constructor(readonly options: RetrievalEngineOptions) {}

  /**
   * The extractor's config as the request's base (its recorded defaults), or — when no extractor
   * is named and none is installed — the built-in defaults, usable for transition items only.
   */
  async base(model: string): Promise<{ lease?: ModelLease; config: MethodConfig; missing?: Error }> {
    try {
      const lease = await this.options.extractors.acquire("extractor_model", model);
      return { lease, config: lease.config };
    } catch (error) {
      if (model === "" && error instanceof NotFoundError) return { config: DEFAULT_METHOD_CONFIG, missing: error };
      throw error;
    }
  }

  async retrieve(request: RetrievePointsRequest, signal?: AbortSignal): Promise<RetrievePointsResponse> {
    const items = request.items ?? [];
    if (items.length > this.options.maxObjects)
      throw new InvalidArgumentError(
        "items",
        `holds ${items.length} items; at most ${this.options.maxObjects} per request (EXITS_MAX_OBJECTS_PER_REQUEST); split the request`,
      );
    const skip = skipsInvalid(request.invalidPolicy);
    const { lease, config, missing } = await this.base(request.extractorModel ?? "");
    try {
      const c = applyRetrievalConfig(
        applySimilarityConfig(
          applyCropConfig(config, present(request.crop), "crop"),
          present(request.similarity),
          "similarity",
        ),
        present(request.config),
        "config",
      );
      const raw = present(request.config)?.scoreScale === ScoreScale.SCORE_SCALE_RAW;
      const results: RetrievedPoints[] = new Array(items.length);
      const ready: Prepared[] = [];
      for (let k = 0; k < items.length; k++) {
        const item = items[k]!;
        try {
          ready.push(await this.prepare(item, k, c, missing));
        } catch (error) {
          const issue = issueOf(error, { imageIndex: k, objectIndex: 0, key: item.key ?? "" }, skip);
          results[k] = emptyResult(item.key ?? "", issue);
        }
      }
      await this.fetchTransitions(ready, c, lease, request, signal);
      for (const [start, end] of chunks(ready.length, this.options.maxBatch)) {
        if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
        await this.walkBatch(ready.slice(start, end), c, request, raw, results);
      }
      return { results, config: retrievalConfigToWire(c) };
    } finally {
      lease?.release();
    }
  }

  private async prepare(item: RetrievalItem, k: number, c: MethodConfig, missing?: Error): Promise<Prepared> {
    const field = `items[${k}]`;
    const transition = present(item.transition);
    const wireImage = present(item.image);
    if (transition) {
      const { map, image } = cropTransformFromWire(present(transition.crop), `${field}.transition.crop`);
      const points = extremePointsFromWire(
        present(item.extremePoints),
        `${field}.extreme_points`,
        image.width > 0 && image.height > 0 ? image : undefined,
      );
      const t = readTransition(
        present(transition.transition),
        `${field}.transition.transition`,
        missing ? undefined : gridOf(c).grid,
      );
      const crop = cropOf(map, points);
      const seeds = cropSeeds(crop, t.grid, c.retrieval.delta);
      return { index: k, key: item.key ?? "", crop, image, seeds, grid: t.grid, transition: t.data };
    }
    if (wireImage) {
      if (missing) throw missing;
      const decoded = await decodeWireImage(wireImage, `${field}.image`, this.options.paths);
      const points = extremePointsFromWire(present(item.extremePoints), `${field}.extreme_points`, decoded);
      const cut = cutCrop(decoded, points, c);
      const crop = cropOf(cut.map!, points);
      const { grid } = gridOf(c);
      const seeds = cropSeeds(crop, grid, c.retrieval.delta);
      return { index: k, key: item.key ?? "", crop, image: cut.image!, seeds, grid, pixels: cut.pixels };
    }
    throw new ObjectInputError("image_missing", field, "has no source; set transition or image");
  }

  /** T for every image item: from SimilarityService over gRPC, or the same engine in process. */
  private async fetchTransitions(
    ready: Prepared[],
    c: MethodConfig,
    lease: ModelLease | undefined,
    request: RetrievePointsRequest,
    signal?: AbortSignal,
  ): Promise<void> {
    const pending = ready.filter((p) => p.pixels);
    if (pending.length === 0) return;
    const S = c.crop.size;
    const source = this.options.similarity;
    if ("local" in source) {
      const work = pending.map((p) => ({
        object: { imageIndex: p.index, objectIndex: 0, key: p.key },
        crop: { pixels: p.pixels! },
      }));
      let i = 0;
      for await (const entry of source.local.run(lease!, c, work, { similarity: false, transition: true }, signal)) {
        pending[i]!.transition = entry.matrices!.transition;
        pending[i]!.pixels = undefined;
        i++;
      }
      return;
    }
    // Remote: send the crops cut here, so both paths see the same pixels, in message-sized chunks.
    for (const [start, end] of chunks(pending.length, this.options.maxBatch)) {
      const part = pending.slice(start, end);
      const data = new Float32Array(part.length * 3 * S * S);
      part.forEach((p, k) => {
        data.set(p.pixels!, k * 3 * S * S);
      });
      const reply = await source.remote.unary<unknown, ExtractSimilarityResponse>(
        "extractSimilarity",
        {
          model: request.extractorModel ?? "",
          crops: {
            crops: float32Tensor([part.length, 3, S, S], data),
            transforms: part.map((p) => cropTransformToWire(p.crop.map, p.image)),
          },
          similarity: present(request.similarity) ?? undefined,
        },
        { timeoutMs: source.timeoutMs, signal },
      );
      part.forEach((p, k) => {
        const t = readTransition(reply.results[k]?.transition, `similarity reply results[${k}].transition`, p.grid);
        p.transition = t.data;
        p.pixels = undefined;
      });
    }
  }

  private async walkBatch(
    batch: Prepared[],
    c: MethodConfig,
    request: RetrievePointsRequest,
    raw: boolean,
    results: RetrievedPoints[],
  ): Promise<void> {
    // Items of one batch may come with different grids (transition inputs): one run per grid.
    const byGrid = new Map<number, Prepared[]>();
    for (const p of batch) byGrid.set(p.grid, [...(byGrid.get(p.grid) ?? []), p]);
    const distributions = request.includeDistributions === true;
    const alpha = c.retrieval.alpha;
    for (const [grid, group] of byGrid) {
      const m = grid * grid;
      const bucket = bucketOf(group.length, this.options.maxBatch);
      const graph = await this.walkGraph(grid, bucket, alpha, distributions);
      const transition = new Float32Array(bucket * m * m);
      const seeds = new Float32Array(bucket * 2 * m);
      for (let k = 0; k < bucket; k++) {
        const p = group[Math.min(k, group.length - 1)]!;
        transition.set(p.transition!, k * m * m);
        seedDistributions(p.seeds, seeds, k * 2 * m);
      }
      const t0 = performance.now();
      const out = await graph.run({
        transition: { dtype: "float32", shape: [bucket, m, m], data: transition },
        seeds: { dtype: "float32", shape: [bucket, 2, m], data: seeds },
      });
      this.options.metrics?.runSeconds.observe({ graph: "walk" }, (performance.now() - t0) / 1000);
      this.options.metrics?.batchSize.observe({ graph: "walk" }, group.length);
      const scores = out[`score:${alpha}`]!.data as Float32Array;
      const pi = out[`pi:${alpha}`]?.data as Float32Array | undefined;
      group.forEach((p, k) => {
        const score = scores.slice(k * m, (k + 1) * m);
        results[p.index] = this.pointsOf(p, score, c, {
          scores: request.includeScores === true,
          raw,
          pi: pi?.slice(k * 2 * m, (k + 1) * 2 * m),
        });
      });
    }
  }

  private pointsOf(
    p: Prepared,
    score: Float32Array,
    c: MethodConfig,
    out: { scores: boolean; raw: boolean; pi?: Float32Array },
  ): RetrievedPoints {
    const m = p.grid * p.grid;
    const picked = selectPatches(score, p.seeds, c.retrieval);
    const fg = [...p.seeds.foreground].sort((a, b) => a - b);
    const fgSet = new Set(fg);
    // The walk starts P_BG from every patch outside the box (as the library does); a seed patch
    // whose centre is outside the box is reported as P_FG only, so the five sets stay disjoint.
    const bg = p.seeds.background.filter((i) => !fgSet.has(i));
    const box: number[] = [];
    for (let i = 0; i < m; i++) if (p.seeds.inBox[i] && !fgSet.has(i)) box.push(i);
    this.options.onPoints?.("seed_foreground", fg.length);
    this.options.onPoints?.("seed_background", bg.length);
    this.options.onPoints?.("pseudo_foreground", picked.foreground.length);
    this.options.onPoints?.("pseudo_background", picked.background.length);
    const scaled = out.raw ? score.map((s) => s / m) : score;
    return {
      gridSize: p.grid,
      crop: cropTransformToWire(p.crop.map, p.image),
      seedForeground: fg,
      seedBackground: bg,
      box,
      pseudoForeground: picked.foreground,
      pseudoBackground: picked.background,
      scores: out.scores ? float32Tensor([m], scaled) : undefined,
      piForeground: out.pi ? float32Tensor([m], out.pi.slice(0, m)) : undefined,
      piBackground: out.pi ? float32Tensor([m], out.pi.slice(m)) : undefined,
      coverage: box.length === 0 ? 0 : (picked.foreground.length + picked.background.length) / box.length,
      key: p.key,
      issue: undefined,
    };
  }

  /** The walk graph of one grid, batch bucket, α and output set; weightless, so shared by every model. */
  private walkGraph(grid: number, bucket: number, alpha: number, distributions: boolean): Promise<CompiledGraph> {
    const key = `${grid}:${bucket}:${alpha}:${distributions}`;
    let graph = this.walks.get(key);
    if (!graph) {
      const t0 = performance.now();
      graph = compileWalk(grid, bucket, [alpha], {
        distributions,
        runtime: this.options.runtime,
        logger: this.options.logger,
      }).then((g) => {
        this.options.metrics?.compileSeconds.observe({ graph: "walk" }, (performance.now() - t0) / 1000);
        return g;
      });
      graph.catch(() => this.walks.delete(key));
      this.walks.set(key, graph);
    }
    return graph;
  }

  async close(): Promise<void> {
    const graphs = [...this.walks.values()];
    this.walks.clear();
    for (const g of graphs) await g.then((x) => x.release()).catch(() => undefined);
  }
}

/** The ObjectCrop fields cropSeeds reads, from a crop map and the object's image points. */
function cropOf(map: CropMap, points: ExtremePoints): ObjectCrop {
  const box = boxFromExtremePoints(points);
  return {
    image: { width: 0, height: 0, data: new Uint8Array() },
    map,
    margins: { left: 0, right: 0, top: 0, bottom: 0 },
    box,
    boxInCrop: boxToCrop(map, box),
    points: extremePointsToCrop(map, points),
  };
}

/**
 * T of an item: float32 [M, M] with M = N² (N = the extractor's grid when known, else from the
 * shape), every value finite. Failures are ObjectInputErrors ("invalid_transition"), so SKIP
 * reports them per item.
 */
function readTransition(
  wire: WireTensor | null | undefined,
  field: string,
  grid?: number,
): { grid: number; data: Float32Array } {
  try {
    const m = grid === undefined ? undefined : grid * grid;
    const { shape, data } = readWireTensor(wire, field, DType.DTYPE_FLOAT32, [m, m]);
    const n = Math.round(Math.sqrt(shape[0]!));
    if (shape[0] !== shape[1] || n * n !== shape[0] || n < 1)
      throw new InvalidArgumentError(field, `shape must be [N², N²] for a patch grid N, got [${shape.join(", ")}]`);
    const bad = firstNonFinite(data);
    if (bad >= 0) throw new InvalidArgumentError(field, `element ${bad} is ${data[bad]}; T must be finite`);
    return { grid: n, data };
  } catch (error) {
    if (error instanceof InvalidArgumentError)
      throw new ObjectInputError("invalid_transition", error.field, error.reason);
    throw error;
  }
}

function emptyResult(key: string, issue: RetrievedPoints["issue"]): RetrievedPoints {
  return {
    gridSize: 0,
    crop: undefined,
    seedForeground: [],
    seedBackground: [],
    box: [],
    pseudoForeground: [],
    pseudoBackground: [],
    scores: undefined,
    piForeground: undefined,
    piBackground: undefined,
    coverage: 0,
    key,
    issue,
  };
}
