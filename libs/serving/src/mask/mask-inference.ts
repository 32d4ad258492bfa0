import {
  DType,
  type ImageMasks,
  InvalidPolicy,
  type ObjectIssue,
  type PredictMasksRequest,
  type PseudoMask,
} from "@exits/contracts";
import { type ExtremePoints, encodeMask, type ObjectCrop, type RgbImage } from "@exits/dataset";
import { canonicalCrop, gridOf, type MethodConfig, pasteObjectMask } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import type { RuntimeConfig } from "@exits/runtime";
import { BucketedGenerator, DEFAULT_BATCH_BUCKETS } from "../batching/batch-buckets.js";
import { DynamicBatcher } from "../batching/dynamic-batcher.js";
import { extremePointsFromWire } from "../input/extreme-points-input.js";
import { decodeWireImage } from "../input/image-input.js";
import { ObjectInputError } from "../input/object-issue.js";
import type { ModelLease, ModelRegistry } from "../models/model-registry.js";
import type { DataPaths } from "../paths/data-paths.js";
import type { CrfRefiner } from "./crf-refiner.js";
import type { MaskMetrics } from "./mask-metrics.js";
import { type PredictSettings, resolvePredictConfig } from "./predict-config.js";

export interface MaskInferenceOptions {
  registry: ModelRegistry;
  paths: DataPaths;
  metrics?: MaskMetrics;
  runtime?: Partial<RuntimeConfig>;
  /** EXITS_MASK_MAX_BATCH (16), EXITS_MASK_MAX_QUEUE_DELAY_MS (5), EXITS_MASK_MAX_QUEUE (1024). */
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  maxQueueSize?: number;
  /** EXITS_MAX_OBJECTS_PER_REQUEST (1024). */
  maxObjectsPerRequest?: number;
  buckets?: readonly number[];
  /** CRF refinement (crf_refine): remote CrfService or in process. */
  crf?: CrfRefiner;
}

/** What the batcher runs per object: crop cut inside the run, so queued objects hold no crop. */
interface CropJob {
  image: RgbImage;
  points: ExtremePoints;
  config: MethodConfig;
}

interface CropResult {
  crop: ObjectCrop;
  probabilities: Float32Array;
}

/** Per call: the lease it runs on and its deadline / cancellation. */
export interface CallContext {
  deadline?: number;
  signal?: AbortSignal;
}

/** One object after validation: either what to run or why it was skipped. */
type Prepared =
  | { kind: "run"; points: ExtremePoints; categoryId?: number; key: string }
  | { kind: "skip"; issue: ObjectIssue; categoryId?: number; key: string };

interface PreparedImage {
  index: number;
  key: string;
  image?: RgbImage;
  objects: Prepared[];
}

/**
 * Method §5 for clients at volume: images and extreme points in, COCO RLE pseudo masks out.
 * Every object of every concurrent call goes through one dynamic batcher per service, which runs
 * the generator of the object's model version on bucketed batch sizes.
 */
export class MaskInference {
  readonly batcher: DynamicBatcher<ModelLease, CropJob, CropResult>;
  private readonly maxObjects: number;

  constructor(private readonly options: MaskInferenceOptions) {
    this.maxObjects = options.maxObjectsPerRequest ?? 1024;
    const metrics = options.metrics;
    this.batcher = new DynamicBatcher<ModelLease, CropJob, CropResult>({
      maxBatchSize: options.maxBatchSize ?? 16,
      maxQueueDelayMs: options.maxQueueDelayMs ?? 5,
      maxQueueSize: options.maxQueueSize ?? 1024,
      run: (lease, jobs) => this.runBatch(lease, jobs),
      onBatch: (n) => metrics?.batchSize.observe(n),
      onQueueDepth: (d) => metrics?.queueDepth.set(d),
      onQueueWait: (s) => metrics?.queueWait.observe(s),
      onDrop: (reason, n) => metrics?.dropped.inc({ reason }, n),
    });
  }

  /**
   * One PredictMasks call: validates everything first (a bad object fails the call before any
   * mask is computed, unless the client asked to skip bad objects), queues every object at once
   * (all or nothing against the queue bound), then yields one ImageMasks per image, in request
   * order, as soon as that image's objects are done.
   */
  async predict(
    request: PredictMasksRequest,
    call: CallContext = {},
  ): Promise<{ model: string; settings: PredictSettings; images: AsyncGenerator<ImageMasks> }> {
    const total = request.images.reduce((n, im) => n + (im.objects?.length ?? 0), 0);
    if (total > this.maxObjects)
      throw new InvalidArgumentError(
        "images",
        `hold ${total} objects; at most ${this.maxObjects} per request (EXITS_MAX_OBJECTS_PER_REQUEST), split the call`,
      );
    const lease = await this.options.registry.acquire("model", request.model ?? "");
    try {
      const settings = resolvePredictConfig(lease.config, request.config);
      const skip = request.invalidPolicy === InvalidPolicy.INVALID_POLICY_SKIP;
      const prepared: PreparedImage[] = [];
      for (let i = 0; i < request.images.length; i++) prepared.push(await this.prepare(request, i, skip));
      if (settings.crfRefine && !this.options.crf)
        throw new InvalidArgumentError("config.crf_refine", "CRF refinement is not available in this deployment");
      // Queue everything now: RESOURCE_EXHAUSTED before anything is sent, and every object can
      // share batches with other calls while earlier images are pasted and streamed.
      const jobs: CropJob[] = [];
      for (const p of prepared)
        for (const o of p.objects)
          if (o.kind === "run") jobs.push({ image: p.image!, points: o.points, config: settings.config });
      const results = this.batcher.enqueue(`${lease.dir}:${lease.sha256}`, lease, jobs, call);
      return {
        model: lease.clientPath,
        settings,
        images: this.emit(prepared, results, settings, request.includeProbabilities ?? false, lease),
      };
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  async close(): Promise<void> {
    this.batcher.close();
  }

  private async *emit(
    prepared: PreparedImage[],
    results: Promise<CropResult>[],
    settings: PredictSettings,
    includeProbabilities: boolean,
    lease: ModelLease,
  ): AsyncGenerator<ImageMasks> {
    try {
      let next = 0;
      for (const p of prepared) {
        const runs = p.objects.filter((o) => o.kind === "run").length;
        const mine = await Promise.all(results.slice(next, next + runs));
        next += runs;
        yield await this.imageMasks(p, mine, settings, includeProbabilities);
      }
    } finally {
      lease.release();
    }
  }

  private async imageMasks(
    p: PreparedImage,
    results: CropResult[],
    settings: PredictSettings,
    includeProbabilities: boolean,
  ): Promise<ImageMasks> {
    const width = p.image?.width ?? 0;
    const height = p.image?.height ?? 0;
    let probabilities = results.map((r) => r.probabilities);
    if (settings.crfRefine && results.length > 0)
      probabilities = await this.options.crf!.refine(
        results.map((r, k) => ({ probabilities: probabilities[k]!, crop: r.crop })),
        settings.crf,
        gridOf(settings.config).maskSize,
      );
    const { maskSize: R } = gridOf(settings.config);
    let k = 0;
    const masks: PseudoMask[] = p.objects.map((o, objectIndex) => {
      const object = { imageIndex: p.index, objectIndex, key: o.key };
      const categoryId = o.categoryId;
      if (o.kind === "skip")
        return { object, score: 0, area: 0, categoryId, issue: { ...o.issue, object } } satisfies PseudoMask;
      const r = results[k]!;
      const probs = probabilities[k++]!;
      const { mask, score } = pasteObjectMask(probs, r.crop, width, height, settings.config);
      let area = 0;
      for (let i = 0; i < mask.data.length; i++) area += mask.data[i]!;
      const rle = encodeMask(mask);
      this.options.metrics?.masks.inc();
      const [top, left, bottom, right] = o.points;
      const pm: PseudoMask = {
        object,
        rle: { size: rle.size, counts: rle.counts as string },
        score,
        area,
        box: { x0: left[0], y0: top[1], x1: right[0] + 1, y1: bottom[1] + 1 },
        categoryId,
      };
      if (includeProbabilities) {
        pm.probabilities = {
          shape: [R, R],
          dtype: DType.DTYPE_FLOAT32,
          data: new Uint8Array(probs.buffer.slice(probs.byteOffset, probs.byteOffset + probs.byteLength)),
        };
        pm.crop = {
          box: { ...r.crop.map.box },
          size: r.crop.map.size,
          flipped: r.crop.map.flipped,
          imageWidth: width,
          imageHeight: height,
        };
      }
      return pm;
    });
    return { imageIndex: p.index, key: p.key, width, height, masks };
  }

  /** Decodes image `i` and checks its objects; bad input throws (REJECT) or becomes issues (SKIP). */
  private async prepare(request: PredictMasksRequest, i: number, skip: boolean): Promise<PreparedImage> {
    const entry = request.images[i]!;
    const field = `images[${i}]`;
    const objects = entry.objects ?? [];
    const issueOf = (error: ObjectInputError, objectIndex: number, key: string): ObjectIssue => ({
      object: { imageIndex: i, objectIndex, key },
      reason: error.issueReason,
      field: error.field,
      message: error.message,
    });
    let image: RgbImage;
    try {
      image = await decodeWireImage(entry.image, `${field}.image`, this.options.paths);
    } catch (error) {
      if (!(skip && error instanceof ObjectInputError)) throw error;
      return {
        index: i,
        key: entry.key ?? "",
        objects: objects.map((o, j) => ({
          kind: "skip",
          issue: issueOf(error, j, o.key ?? ""),
          categoryId: o.categoryId,
          key: o.key ?? "",
        })),
      };
    }
    const prepared: Prepared[] = objects.map((o, j) => {
      const key = o.key ?? "";
      try {
        const points = extremePointsFromWire(o.extremePoints, `${field}.objects[${j}].extreme_points`, image);
        return { kind: "run", points, categoryId: o.categoryId, key };
      } catch (error) {
        if (!(skip && error instanceof ObjectInputError)) throw error;
        return { kind: "skip", issue: issueOf(error, j, key), categoryId: o.categoryId, key };
      }
    });
    return { index: i, key: entry.key ?? "", image, objects: prepared };
  }

  /**
   * The execution provider a version's sessions run on (GetModelInfo): the smallest bucket's,
   * compiled now if no call has yet (it is the session the first single-object call would use).
   */
  async providerOf(lease: ModelLease): Promise<"cpu" | "cuda"> {
    const generator = this.generatorOf(lease);
    return (await generator.session(generator.buckets[0]!)).provider;
  }

  private generatorOf(lease: ModelLease): BucketedGenerator {
    return new BucketedGenerator(lease, {
      buckets: this.options.buckets ?? DEFAULT_BATCH_BUCKETS,
      runtime: this.options.runtime,
      onRun: (seconds, bucket) => this.options.metrics?.onnxRun.observe({ bucket: String(bucket) }, seconds),
    });
  }

  /** One graph run: canonical crops of the batch's objects through the version's bucketed generator. */
  private async runBatch(lease: ModelLease, jobs: CropJob[]): Promise<CropResult[]> {
    const crops = jobs.map((j) => canonicalCrop(j.image, j.points, j.config));
    const probabilities = await this.generatorOf(lease).predict(crops);
    return crops.map((crop, k) => ({ crop, probabilities: probabilities[k]! }));
  }
}
