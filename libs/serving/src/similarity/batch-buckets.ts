import { bucketFor } from "../batching/batch-buckets.js";

/**
 * Graph batch sizes a service compiles: powers of two up to `maxBatch`, and `maxBatch` itself.
 * A run of n objects uses the smallest bucket ≥ n (padded with its last object), so a model
 * version has at most log2(maxBatch) + 1 sessions per graph instead of one per size.
 */
export function batchBuckets(maxBatch: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) out.push(b);
  out.push(maxBatch);
  return out;
}

/** The bucket a run of `n` (1 ≤ n ≤ maxBatch) objects uses (H4's bucketFor over {@link batchBuckets}). */
export function bucketOf(n: number, maxBatch: number): number {
  return bucketFor(n, batchBuckets(maxBatch));
}

/** [start, end) chunks of at most `maxBatch` over `n` items. */
export function chunks(n: number, maxBatch: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += maxBatch) out.push([s, Math.min(n, s + maxBatch)]);
  return out;
}
