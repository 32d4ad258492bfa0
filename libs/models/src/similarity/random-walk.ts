import { matmul, mul, reshape, slice, sub, type Tensor } from "@exits/graph";

/**
 * π = seeds · T^α (method §3.3) as α successive batched vector–matrix products — T^α itself is
 * never formed (α matrix products of M × M would cost M times more). seeds [B, K, M] (rows of
 * seed distributions), t [B, M, M] → [B, K, M]. α = 0 returns the seeds.
 */
export function randomWalk(seeds: Tensor, t: Tensor, alpha: number): Tensor {
  if (!Number.isInteger(alpha) || alpha < 0)
    throw new Error(`randomWalk: alpha must be a non-negative integer, got ${alpha}`);
  let pi = seeds;
  for (let i = 0; i < alpha; i++) pi = matmul(pi, t);
  return pi;
}

/**
 * The retrieval score M·(π_f − π_b) from pi [B, 2, M] (foreground walk first): [B, M]. Each π sums
 * to 1 over M points, so the raw difference shrinks as the grid grows; scaled by M one threshold
 * serves every grid size (method §3.3).
 */
export function retrievalScore(pi: Tensor): Tensor {
  const [b, k, m] = pi.shape as [number, number, number];
  if (pi.rank !== 3 || k !== 2) throw new Error(`retrievalScore: pi must be [B, 2, M], got [${pi.shape.join(", ")}]`);
  const fg = reshape(slice(pi, [0], [1], [1]), [b, m]);
  const bg = reshape(slice(pi, [1], [2], [1]), [b, m]);
  return mul(sub(fg, bg), m);
}
