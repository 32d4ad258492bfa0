import type { Logger } from "@exits/base";
import {
  DType,
  type ExtractSimilarityRequest,
  InvalidPolicy,
  type ObjectIndex,
  type ObjectIssue,
  type ObjectSimilarity,
  SimilarityOutput,
} from "@exits/contracts";
import type { CropMap, RgbImage } from "@exits/dataset";
import { canonicalCrop, compileSimilarity, gridOf, type MethodConfig, writeNormalisedChw } from "@exits/exits";
import { InvalidArgumentError, ResourceExhaustedError } from "@exits/platform";
import type { CompiledGraph, RuntimeConfig } from "@exits/runtime";
import { present } from "../config/config-field.js";
import { applyCropConfig } from "../config/crop-config.js";
import { applySimilarityConfig } from "../config/similarity-config.js";
import { extremePointsFromWire } from "../input/extreme-points-input.js";
import { decodeWireImage } from "../input/image-input.js";
import { ObjectInputError } from "../input/object-issue.js";
import type { ModelLease } from "../models/model-registry.js";
import type { DataPaths } from "../paths/data-paths.js";
import { bucketOf, chunks } from "./batch-buckets.js";
import { cropTransformFromWire, cropTransformToWire } from "./crop-transform-wire.js";
import type { GraphMetrics } from "./graph-metrics.js";
import { firstNonFinite, float32Tensor, readWireTensor } from "./wire-tensor.js";

/** The part of the model registry the engines use (H4's ModelRegistry, or a test double). */
export interface ModelSource {
  acquire(field: string, model: string): Promise<ModelLease>;
}

export interface SimilarityEngineOptions {
  paths: DataPaths;
  runtime?: Partial<RuntimeConfig>;
  /** Most crops per graph run. */
  maxBatch: number;
  /** Most objects (or crops) one request may bring; more is INVALID_ARGUMENT before any work. */
  maxObjects: number;
  /** Largest reply message (unary): larger requests are told to stream instead. */
  maxMessageBytes: number;
  metrics?: GraphMetrics;
  logger?: Logger;
}

/** One crop ready for the extractor. */
export interface PreparedCrop {
  /** [3, S, S] ImageNet-normalised. */
  pixels: Float32Array;
  map?: CropMap;
  image?: { width: number; height: number };
}

/** What the graph gives for one crop. */
export interface CropMatrices {
  similarity?: Float32Array;
  transition?: Float32Array;
  iterations: number;
  residual: number;
}

/** One entry of the request, in order: a crop to run or an object skipped with its issue. */
export interface SimilarityWork {
  object: ObjectIndex;
  crop?: PreparedCrop;
  issue?: ObjectIssue;
  /** For image input: cut lazily per batch, so a large request does not hold every crop at once. */
  cut?: () => PreparedCrop;
}

/** "similarity" | "transition" | "both" of a request. */
export function outputsOf(output: SimilarityOutput | undefined): { similarity: boolean; transition: boolean } {
  switch (output ?? SimilarityOutput.SIMILARITY_OUTPUT_UNSPECIFIED) {
    case SimilarityOutput.SIMILARITY_OUTPUT_UNSPECIFIED:
    case SimilarityOutput.SIMILARITY_OUTPUT_TRANSITION:
      return { similarity: false, transition: true };
    case SimilarityOutput.SIMILARITY_OUTPUT_SIMILARITY:
      return { similarity: true, transition: false };
    case SimilarityOutput.SIMILARITY_OUTPUT_BOTH:
      return { similarity: true, transition: true };
    default:
      throw new InvalidArgumentError("output", `unknown SimilarityOutput ${output}`);
  }
}

/** The invalid policy of a request: REJECT unless SKIP is asked for. */
export function skipsInvalid(policy: InvalidPolicy | undefined, field = "invalid_policy"): boolean {
  if (policy === InvalidPolicy.INVALID_POLICY_SKIP) return true;
  if (
    policy === undefined ||
    policy === InvalidPolicy.INVALID_POLICY_UNSPECIFIED ||
    policy === InvalidPolicy.INVALID_POLICY_REJECT
  )
    return false;
  throw new InvalidArgumentError(field, `unknown InvalidPolicy ${policy}`);
}

/** An ObjectInputError as the ObjectIssue of `object` (SKIP), or rethrown (REJECT / other errors). */
export function issueOf(error: unknown, object: ObjectIndex, skip: boolean): ObjectIssue {
  if (!skip || !(error instanceof ObjectInputError)) throw error;
  return { object, reason: error.issueReason, field: error.field, message: error.message };
}

/**
 * The similarity extractor behind SimilarityService (and RetrievalService's image inputs in
 * process): crops → S, T. Graphs are compiled once per model version, output selection, attention
 * layer / Sinkhorn setting and batch bucket, and cached on the model lease.
 */
export class SimilarityEngine {
  /** The provider the last compiled graph runs on ("cpu" | "cuda"); undefined before any. */
  provider?: "cpu" | "cuda";

  constructor(readonly options: SimilarityEngineOptions) {}

  /** The request's model config with its crop and similarity overrides applied. */
  configFor(lease: ModelLease, request: Pick<ExtractSimilarityRequest, "crop" | "similarity">): MethodConfig {
    const c = applyCropConfig(lease.config, present(request.crop), "crop");
    return applySimilarityConfig(c, present(request.similarity), "similarity");
  }

  /**
   * Validates a request's input and lists its work in order: decodes each image once and checks
   * every object (REJECT: the first bad one fails the call; SKIP: it becomes an issue), or checks
   * the crop tensor. Refuses requests over `maxObjects` before decoding anything.
   */
  async prepare(request: ExtractSimilarityRequest, c: MethodConfig): Promise<SimilarityWork[]> {
    const skip = skipsInvalid(request.invalidPolicy);
    const images = present(request.images);
    const crops = present(request.crops);
    if (images && crops) throw new InvalidArgumentError("input", "set either images or crops, not both");
    if (images) return this.prepareImages(images.images ?? [], c, skip);
    if (crops) return this.prepareCrops(crops, c);
    throw new InvalidArgumentError("input", "is missing; send images (with objects) or crops");
  }

  private async prepareImages(
    images: NonNullable<ExtractSimilarityRequest["images"]>["images"],
    c: MethodConfig,
    skip: boolean,
  ): Promise<SimilarityWork[]> {
    const total = images.reduce((n, im) => n + (im.objects?.length ?? 0), 0);
    this.checkCount("images.images", total);
    const work: SimilarityWork[] = [];
    for (let i = 0; i < images.length; i++) {
      const entry = images[i]!;
      const objects = entry.objects ?? [];
      if (objects.length === 0) continue;
      let image: RgbImage | undefined;
      let imageError: unknown;
      try {
        image = await decodeWireImage(present(entry.image), `images.images[${i}].image`, this.options.paths);
      } catch (error) {
        imageError = error;
      }
      for (let j = 0; j < objects.length; j++) {
        const object: ObjectIndex = { imageIndex: i, objectIndex: j, key: objects[j]!.key ?? "" };
        if (!image) {
          work.push({ object, issue: issueOf(imageError, object, skip) });
          continue;
        }
        try {
          const points = extremePointsFromWire(
            present(objects[j]!.extremePoints),
            `images.images[${i}].objects[${j}].extreme_points`,
            image,
          );
          const source = image;
          work.push({ object, cut: () => cutCrop(source, points, c) });
        } catch (error) {
          work.push({ object, issue: issueOf(error, object, skip) });
        }
      }
    }
    return work;
  }

  private prepareCrops(crops: NonNullable<ExtractSimilarityRequest["crops"]>, c: MethodConfig): SimilarityWork[] {
    const S = c.crop.size;
    const t = present(crops.crops);
    const b = Number(t?.shape?.[0] ?? 0);
    if (t && Number.isInteger(b)) this.checkCount("crops.crops", b);
    const { data, shape } = readWireTensor(t, "crops.crops", DType.DTYPE_FLOAT32, [undefined, 3, S, S]);
    const bad = firstNonFinite(data);
    if (bad >= 0) throw new InvalidArgumentError("crops.crops", `element ${bad} is ${data[bad]}; crops must be finite`);
    const transforms = crops.transforms ?? [];
    if (transforms.length !== 0 && transforms.length !== shape[0])
      throw new InvalidArgumentError(
        "crops.transforms",
        `has ${transforms.length} entries for ${shape[0]} crops; send none or one per crop`,
      );
    const per = 3 * S * S;
    return Array.from({ length: shape[0]! }, (_, k) => {
      const transform = transforms[k] ? cropTransformFromWire(transforms[k], `crops.transforms[${k}]`, S) : undefined;
      return {
        object: { imageIndex: k, objectIndex: 0, key: "" },
        crop: { pixels: data.subarray(k * per, (k + 1) * per), map: transform?.map, image: transform?.image },
      };
    });
  }

  private checkCount(field: string, n: number): void {
    if (n > this.options.maxObjects)
      throw new InvalidArgumentError(
        field,
        `holds ${n} objects; at most ${this.options.maxObjects} per request (EXITS_MAX_OBJECTS_PER_REQUEST); split the request`,
      );
  }

  /** Refuses a unary reply that could not be sent (each N² × N² float32 matrix is 4·N⁴ bytes). */
  checkReplySize(
    work: readonly SimilarityWork[],
    c: MethodConfig,
    outputs: { similarity: boolean; transition: boolean },
  ): void {
    const { grid } = gridOf(c);
    const matrices = (outputs.similarity ? 1 : 0) + (outputs.transition ? 1 : 0);
    const runs = work.filter((w) => !w.issue).length;
    const bytes = runs * matrices * 4 * grid ** 4;
    if (bytes > this.options.maxMessageBytes * 0.95)
      throw new ResourceExhaustedError(
        `the reply would hold ${runs} × ${matrices} matrices of ${grid * grid}² float32 (${(bytes / 2 ** 20).toFixed(1)} MiB), over the ${(this.options.maxMessageBytes / 2 ** 20).toFixed(0)} MiB message limit; use ExtractSimilarityStream or fewer objects per call`,
      );
  }

  /**
   * Runs the work in batches of at most `maxBatch` and yields each entry's matrices (skipped
   * entries without) in request order, one batch at a time.
   */
  async *run(
    lease: ModelLease,
    c: MethodConfig,
    work: readonly SimilarityWork[],
    outputs: { similarity: boolean; transition: boolean },
    signal?: AbortSignal,
  ): AsyncGenerator<{ work: SimilarityWork; crop?: PreparedCrop; matrices?: CropMatrices }> {
    const runnable = work.filter((w) => !w.issue);
    const S = c.crop.size;
    const per = 3 * S * S;
    const { grid } = gridOf(c);
    const m = grid * grid;
    let emitted = 0;
    for (const [start, end] of chunks(runnable.length, this.options.maxBatch)) {
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      const batch = runnable.slice(start, end);
      const crops = batch.map((w) => w.crop ?? w.cut!());
      const bucket = bucketOf(batch.length, this.options.maxBatch);
      const graph = await this.graph(lease, c, bucket, outputs);
      const images = new Float32Array(bucket * per);
      for (let k = 0; k < bucket; k++) images.set(crops[Math.min(k, crops.length - 1)]!.pixels, k * per);
      const t0 = performance.now();
      const result = await graph.run({ images: { dtype: "float32", shape: [bucket, 3, S, S], data: images } });
      this.options.metrics?.runSeconds.observe({ graph: "similarity" }, (performance.now() - t0) / 1000);
      this.options.metrics?.batchSize.observe({ graph: "similarity" }, batch.length);
      const iterations = result.iterations!.data as Float32Array;
      const deviation = result.deviation!.data as Float32Array;
      const slice = (name: string, k: number) =>
        result[name] ? (result[name]!.data as Float32Array).slice(k * m * m, (k + 1) * m * m) : undefined;
      // Skipped entries before this batch's entries are emitted first, so the order is the request's.
      for (let k = 0; k < batch.length; k++) {
        const target = batch[k]!;
        while (work[emitted] !== target) yield { work: work[emitted++]! };
        emitted++;
        yield {
          work: target,
          crop: crops[k],
          matrices: {
            similarity: outputs.similarity ? slice("similarity", k) : undefined,
            transition: outputs.transition ? slice("transition", k) : undefined,
            iterations: iterations[k]!,
            residual: deviation[k]!,
          },
        };
      }
    }
    while (emitted < work.length) yield { work: work[emitted++]! };
  }

  /** The compiled similarity graph of one model version, setting, output selection and bucket (cached on the lease). */
  async graph(
    lease: ModelLease,
    c: MethodConfig,
    bucket: number,
    outputs: { similarity: boolean; transition: boolean },
  ): Promise<CompiledGraph> {
    const key = [
      "similarity",
      bucket,
      outputs.similarity ? "S" : "",
      outputs.transition ? "T" : "",
      c.extractor.attentionLayer,
      c.retrieval.sinkhornIterations,
      c.retrieval.sinkhornTolerance,
    ].join(":");
    const graph = await lease.cached(
      key,
      async () => {
        const t0 = performance.now();
        const g = await compileSimilarity(c, lease.parameters, bucket, {
          ...outputs,
          runtime: this.options.runtime,
          logger: this.options.logger,
        });
        this.options.metrics?.compileSeconds.observe({ graph: "similarity" }, (performance.now() - t0) / 1000);
        return g;
      },
      (g) => g.release(),
    );
    this.provider = graph.session.provider;
    return graph;
  }
}

/** The canonical crop of an object (inference margin, mirror fill), normalised for the extractor. */
export function cutCrop(image: RgbImage, points: Parameters<typeof canonicalCrop>[1], c: MethodConfig): PreparedCrop {
  const crop = canonicalCrop(image, points, c);
  const pixels = new Float32Array(3 * c.crop.size * c.crop.size);
  writeNormalisedChw(crop.image, pixels, 0);
  return { pixels, map: crop.map, image: { width: image.width, height: image.height } };
}

/** One run result as the wire ObjectSimilarity. */
export function objectSimilarityToWire(
  entry: { work: SimilarityWork; crop?: PreparedCrop; matrices?: CropMatrices },
  grid: number,
): ObjectSimilarity {
  const m = grid * grid;
  const { work, crop, matrices } = entry;
  return {
    object: work.object,
    gridSize: grid,
    crop: crop?.map && crop.image ? cropTransformToWire(crop.map, crop.image) : undefined,
    similarity: matrices?.similarity ? float32Tensor([m, m], matrices.similarity) : undefined,
    transition: matrices?.transition ? float32Tensor([m, m], matrices.transition) : undefined,
    sinkhornIterations: matrices?.iterations ?? 0,
    sinkhornResidual: matrices?.residual ?? 0,
    issue: work.issue,
  };
}
