import type { Logger } from "@exits/base";
import {
  DType,
  FillMode,
  type RefinedMap,
  type RefineItem,
  type RefineRequest,
  type RefineResponse,
  type Box as WireBox,
} from "@exits/contracts";
import { cropRaster } from "@exits/dataset";
import { DEFAULT_METHOD_CONFIG, IMAGENET_MEAN, IMAGENET_STD } from "@exits/exits";
import { input } from "@exits/graph";
import { meanFieldCrf } from "@exits/models";
import { InvalidArgumentError } from "@exits/platform";
import { type CompiledGraph, compileGraph, type RuntimeConfig } from "@exits/runtime";
import { present } from "../config/config-field.js";
import { type CrfSettings, crfConfigToWire, resolveCrfSettings } from "../config/crf-config.js";
import { decodeWireImage } from "../input/image-input.js";
import type { DataPaths } from "../paths/data-paths.js";
import { bucketOf, chunks } from "../similarity/batch-buckets.js";
import { cropTransformFromWire } from "../similarity/crop-transform-wire.js";
import type { GraphMetrics } from "../similarity/graph-metrics.js";
import { firstNonFinite, float32Tensor, readWireTensor, uint8Tensor } from "../similarity/wire-tensor.js";

export interface CrfEngineOptions {
  /** Where `image_crop` colours are read; absent = only colour tensors are accepted (in-process refiners). */
  paths?: DataPaths;
  runtime?: Partial<RuntimeConfig>;
  maxBatch: number;
  maxObjects: number;
  /** Largest map side accepted. */
  maxSide?: number;
  metrics?: GraphMetrics;
  onItems?: (n: number) => void;
  logger?: Logger;
}

/** One checked item: probabilities [H, W], colours [3, H, W] in [0, 1] RGB, box mask [H, W]. */
interface CrfInput {
  index: number;
  key: string;
  h: number;
  w: number;
  prob: Float32Array;
  rgb: Float32Array;
  box: Float32Array;
}

/**
 * CrfService's work: MAL's mean-field CRF (libs/models meanFieldCrf, method §3.6) on each item.
 * Colours are compared on [0, 1] RGB, the space the generator's CRF loss uses
 * (writeDownsampledChw, ζ = 0.1 on that scale): ImageNet-normalised input is un-normalised and
 * uint8 divided by 255 first. The graph returns the clamped probabilities; the mask is
 * p > binarize_threshold (MAL's > 0.5 by default). Graphs are compiled per map size, batch bucket
 * and setting, and kept.
 */
export class CrfEngine {
  provider?: "cpu" | "cuda";
  private readonly graphs = new Map<string, Promise<CompiledGraph>>();

  constructor(readonly options: CrfEngineOptions) {}

  defaults(): CrfSettings {
    return resolveCrfSettings(DEFAULT_METHOD_CONFIG.crf, undefined, "config");
  }

  async refine(request: RefineRequest): Promise<RefineResponse> {
    const items = request.items ?? [];
    if (items.length > this.options.maxObjects)
      throw new InvalidArgumentError(
        "items",
        `holds ${items.length} items; at most ${this.options.maxObjects} per request (EXITS_MAX_OBJECTS_PER_REQUEST); split the request`,
      );
    const settings = resolveCrfSettings(DEFAULT_METHOD_CONFIG.crf, present(request.config), "config");
    const fill = request.fill ?? FillMode.FILL_MODE_UNSPECIFIED;
    if (fill === FillMode.FILL_MODE_WRAP)
      throw new InvalidArgumentError("fill", "only FILL_MODE_MIRROR is supported (crops reflect at the image border)");
    if (fill !== FillMode.FILL_MODE_UNSPECIFIED && fill !== FillMode.FILL_MODE_MIRROR)
      throw new InvalidArgumentError("fill", `unknown fill mode ${fill}`);
    const inputs: CrfInput[] = [];
    for (let k = 0; k < items.length; k++) inputs.push(await this.prepare(items[k]!, k));
    const results: RefinedMap[] = new Array(items.length);
    const bySize = new Map<string, CrfInput[]>();
    for (const x of inputs) bySize.set(`${x.h}x${x.w}`, [...(bySize.get(`${x.h}x${x.w}`) ?? []), x]);
    for (const group of bySize.values())
      for (const [start, end] of chunks(group.length, this.options.maxBatch))
        await this.runBatch(group.slice(start, end), settings, request.includeProbabilities === true, results);
    this.options.onItems?.(items.length);
    return { results, config: crfConfigToWire(settings) };
  }

  private async prepare(item: RefineItem, k: number): Promise<CrfInput> {
    const field = `items[${k}]`;
    const maxSide = this.options.maxSide ?? 2048;
    const p = readWireTensor(present(item.probabilities), `${field}.probabilities`, DType.DTYPE_FLOAT32, [
      undefined,
      undefined,
    ]);
    const [h, w] = p.shape as [number, number];
    if (h < 1 || w < 1 || h > maxSide || w > maxSide)
      throw new InvalidArgumentError(`${field}.probabilities`, `each side must be in [1, ${maxSide}], got ${h}x${w}`);
    for (let i = 0; i < p.data.length; i++) {
      const v = p.data[i]!;
      if (!(v >= 0 && v <= 1))
        throw new InvalidArgumentError(
          `${field}.probabilities`,
          `element ${i} is ${v}; probabilities must be in [0, 1]`,
        );
    }
    return {
      index: k,
      key: item.key ?? "",
      h,
      w,
      prob: p.data,
      rgb: await this.colours(item, field, h, w),
      box: boxMask(present(item.box), `${field}.box`, h, w),
    };
  }

  /** The item's colours as [3, H, W] floats on [0, 1] RGB. */
  private async colours(item: RefineItem, field: string, h: number, w: number): Promise<Float32Array> {
    const colours = present(item.colours);
    const rgb = present(colours?.rgb);
    const crop = present(colours?.imageCrop);
    const n = h * w;
    const out = new Float32Array(3 * n);
    if (rgb) {
      const f = `${field}.colours.rgb`;
      if (rgb.dtype === DType.DTYPE_UINT8) {
        const { data } = readWireTensor(rgb, f, DType.DTYPE_UINT8, [h, w, 3]);
        for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = data[i * 3 + c]! / 255;
        return out;
      }
      if (rgb.dtype !== DType.DTYPE_FLOAT32)
        throw new InvalidArgumentError(
          f,
          `dtype must be DTYPE_FLOAT32 [3, ${h}, ${w}] or DTYPE_UINT8 [${h}, ${w}, 3], got ${DType[rgb.dtype] ?? rgb.dtype}`,
        );
      const { data } = readWireTensor(rgb, f, DType.DTYPE_FLOAT32, [3, h, w]);
      const bad = firstNonFinite(data);
      if (bad >= 0) throw new InvalidArgumentError(f, `element ${bad} is ${data[bad]}; colours must be finite`);
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < n; i++) out[c * n + i] = data[c * n + i]! * IMAGENET_STD[c]! + IMAGENET_MEAN[c]!;
      return out;
    }
    if (crop) {
      const f = `${field}.colours.image_crop`;
      if (h !== w)
        throw new InvalidArgumentError(
          `${field}.probabilities`,
          `must be square for image_crop colours, got ${h}x${w}`,
        );
      const { map } = cropTransformFromWire(present(crop.crop), `${f}.crop`, h);
      if (!this.options.paths)
        throw new InvalidArgumentError(`${f}.image`, "image crops are not accepted here; send the colours as a tensor");
      const image = await decodeWireImage(present(crop.image), `${f}.image`, this.options.paths);
      const values = cropRaster({ ...image, channels: 3 }, map.box, h, h, { border: "mirror", flipped: map.flipped });
      for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = Math.round(values[i * 3 + c]!) / 255;
      return out;
    }
    throw new InvalidArgumentError(`${field}.colours`, "is missing; set rgb or image_crop");
  }

  private async runBatch(
    group: CrfInput[],
    s: CrfSettings,
    withProbabilities: boolean,
    results: RefinedMap[],
  ): Promise<void> {
    const { h, w } = group[0]!;
    const n = h * w;
    const bucket = bucketOf(group.length, this.options.maxBatch);
    const graph = await this.graph(h, w, bucket, s);
    const prob = new Float32Array(bucket * n);
    const rgb = new Float32Array(bucket * 3 * n);
    const box = new Float32Array(bucket * n);
    for (let k = 0; k < bucket; k++) {
      const x = group[Math.min(k, group.length - 1)]!;
      prob.set(x.prob, k * n);
      rgb.set(x.rgb, k * 3 * n);
      box.set(x.box, k * n);
    }
    const t0 = performance.now();
    const out = await graph.run({
      prob: { dtype: "float32", shape: [bucket, h, w], data: prob },
      image: { dtype: "float32", shape: [bucket, 3, h, w], data: rgb },
      box: { dtype: "float32", shape: [bucket, h, w], data: box },
    });
    this.options.metrics?.runSeconds.observe({ graph: "crf" }, (performance.now() - t0) / 1000);
    this.options.metrics?.batchSize.observe({ graph: "crf" }, group.length);
    const refined = out.refined!.data as Float32Array;
    group.forEach((x, k) => {
      const p = refined.slice(k * n, (k + 1) * n);
      const mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) mask[i] = p[i]! > s.binarizeThreshold ? 1 : 0;
      results[x.index] = {
        mask: uint8Tensor([h, w], mask),
        probabilities: withProbabilities ? float32Tensor([h, w], p) : undefined,
        iterations: s.iterations,
        key: x.key,
      };
    });
  }

  /** The CRF graph of one map size, bucket and setting (weightless; kept for the service's life). */
  async graph(h: number, w: number, bucket: number, s: CrfSettings): Promise<CompiledGraph> {
    const key = [h, w, bucket, s.iterations, s.zeta, s.low, s.high, s.kernel].join(":");
    let graph = this.graphs.get(key);
    if (!graph) {
      const t0 = performance.now();
      const refined = meanFieldCrf(
        input("prob", [bucket, h, w]),
        input("image", [bucket, 3, h, w]),
        input("box", [bucket, h, w]),
        { iterations: s.iterations, zeta: s.zeta, low: s.low, high: s.high, kernel: s.kernel, binarize: false },
      );
      graph = compileGraph(
        { refined },
        { config: this.options.runtime, logger: this.options.logger, name: "crf" },
      ).then((g) => {
        this.options.metrics?.compileSeconds.observe({ graph: "crf" }, (performance.now() - t0) / 1000);
        this.provider = g.session.provider;
        return g;
      });
      graph.catch(() => this.graphs.delete(key));
      this.graphs.set(key, graph);
    }
    return graph;
  }

  async close(): Promise<void> {
    const graphs = [...this.graphs.values()];
    this.graphs.clear();
    for (const g of graphs) await g.then((x) => x.release()).catch(() => undefined);
  }
}

/** A pixel is inside the box when its centre is (crf.proto). */
function boxMask(box: WireBox | undefined, field: string, h: number, w: number): Float32Array {
  if (!box) throw new InvalidArgumentError(field, "is missing; the CRF forces foreground to 0 outside the box");
  for (const k of ["x0", "y0", "x1", "y1"] as const)
    if (!Number.isFinite(box[k])) throw new InvalidArgumentError(`${field}.${k}`, `must be finite, got ${box[k]}`);
  if (!(box.x1 > box.x0)) throw new InvalidArgumentError(`${field}.x1`, `must be > x0 (${box.x0}), got ${box.x1}`);
  if (!(box.y1 > box.y0)) throw new InvalidArgumentError(`${field}.y1`, `must be > y0 (${box.y0}), got ${box.y1}`);
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) {
    const cy = r + 0.5;
    if (cy < box.y0 || cy >= box.y1) continue;
    for (let c = 0; c < w; c++) {
      const cx = c + 0.5;
      if (cx >= box.x0 && cx < box.x1) out[r * w + c] = 1;
    }
  }
  return out;
}
