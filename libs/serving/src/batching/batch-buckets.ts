import type { Logger } from "@exits/base";
import type { ObjectCrop } from "@exits/dataset";
import { MaskPredictor } from "@exits/exits";
import type { RuntimeConfig } from "@exits/runtime";
import type { ModelLease } from "../models/model-registry.js";

/**
 * Batch sizes the generator graph is compiled for. The graph IR has static shapes (every
 * Reshape / Expand carries its batch as a constant), so each size is its own ONNX Runtime
 * session; a batch of n objects runs on the smallest bucket ≥ n, padded. Six sessions cover
 * every size up to 32 with at most 2× padding work.
 */
export const DEFAULT_BATCH_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32];

/** The smallest bucket holding `n` objects (the largest bucket when none does: the caller splits). */
export function bucketFor(n: number, buckets: readonly number[]): number {
  for (const b of buckets) if (b >= n) return b;
  return buckets[buckets.length - 1]!;
}

/** Parses "1,2,4,8" (EXITS_MASK_BATCH_BUCKETS); ascending, distinct, positive integers. */
export function parseBuckets(text: string): number[] {
  const values = text.split(",").map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 1024))
    throw new Error(`batch buckets "${text}": give ascending positive integers, e.g. "1,2,4,8,16,32"`);
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  return sorted;
}

export interface BucketedGeneratorOptions {
  buckets?: readonly number[];
  runtime?: Partial<RuntimeConfig>;
  logger?: Logger;
  /** Seconds of one graph run (input packing included) and the bucket it ran on. */
  onRun?: (seconds: number, bucket: number, objects: number) => void;
}

/**
 * The generator of one model version at every batch size: sessions compiled lazily per bucket
 * and cached on the model lease, so they live exactly as long as the version and are shared by
 * every call that uses it.
 */
export class BucketedGenerator {
  readonly buckets: readonly number[];

  constructor(
    private readonly lease: ModelLease,
    private readonly options: BucketedGeneratorOptions = {},
  ) {
    this.buckets = options.buckets ?? DEFAULT_BATCH_BUCKETS;
  }

  /** Largest batch one run takes. */
  get maxBatch(): number {
    return this.buckets[this.buckets.length - 1]!;
  }

  /** The compiled session of one bucket (compiled on first use). */
  session(bucket: number): Promise<MaskPredictor> {
    return this.lease.cached(
      `generator-bucket:${bucket}`,
      () =>
        MaskPredictor.create(this.lease.config, this.lease.parameters, bucket, {
          runtime: this.options.runtime,
          logger: this.options.logger,
        }),
      (p) => p.release(),
    );
  }

  /** R × R probabilities per crop; runs of at most `maxBatch`, each on its bucket. */
  async predict(crops: readonly ObjectCrop[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < crops.length; start += this.maxBatch) {
      const part = crops.slice(start, start + this.maxBatch);
      const bucket = bucketFor(part.length, this.buckets);
      const session = await this.session(bucket);
      const t0 = performance.now();
      const probs = await session.predict(part);
      this.options.onRun?.((performance.now() - t0) / 1000, bucket, part.length);
      out.push(...probs);
    }
    return out;
  }
}
