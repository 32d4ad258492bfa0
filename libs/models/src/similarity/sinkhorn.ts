import {
  abs,
  add,
  cast,
  constant,
  div,
  full,
  lessEqual,
  logicalOr,
  max,
  maximum,
  mul,
  reshape,
  sub,
  sum,
  type Tensor,
  transpose,
  where,
} from "@exits/graph";

export interface SinkhornOptions {
  /** Most normalisation rounds (one round = rows, then columns). Default 50. */
  maxIterations?: number;
  /** An object stops once every row and column sum is within this of 1. Default 1e-4. */
  tolerance?: number;
  /** S is clamped to at least this before normalising (zeros would make rows unnormalisable). Default 1e-12. */
  floor?: number;
}

/** Largest |row sum − 1| and |column sum − 1| per object of x [B, M, M]: [B]. */
function deviation(x: Tensor): Tensor {
  const rows = max(abs(sub(sum(x, -1), 1)), -1);
  const cols = max(abs(sub(sum(x, -2), 1)), -1);
  return maximum(rows, cols);
}

/**
 * Sinkhorn–Knopp on a batch of non-negative matrices s [B, M, M] (method §3.2): rows, then
 * columns, normalised in turn until both sum to 1. The graph is static, so it unrolls
 * `maxIterations` rounds and freezes each object once it has converged (`where`): every object
 * gets exactly the iterations its own tolerance test asks for. Returns the doubly stochastic A,
 * the rounds each object used and its final deviation.
 */
export function sinkhorn(
  s: Tensor,
  opts: SinkhornOptions = {},
): { doubly: Tensor; iterations: Tensor; deviation: Tensor } {
  if (s.rank !== 3 || s.shape[1] !== s.shape[2])
    throw new Error(`sinkhorn: s must be [B, M, M], got [${s.shape.join(", ")}]`);
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-4;
  const b = s.shape[0]!;
  let x = maximum(s, opts.floor ?? 1e-12);
  let done = constant(new Uint8Array(b), [b], "bool");
  let iterations = full([b], 0, s.dtype);
  for (let i = 0; i < maxIterations; i++) {
    const rows = div(x, sum(x, -1, true));
    const next = div(rows, sum(rows, -2, true));
    x = where(reshape(done, [b, 1, 1]), x, next);
    iterations = add(iterations, sub(1, cast(done, s.dtype)));
    done = logicalOr(done, lessEqual(deviation(x), tolerance));
  }
  return { doubly: x, iterations, deviation: deviation(x) };
}

/** T = (A + Aᵀ) / 2 per object of a [B, M, M] batch: symmetric, and doubly stochastic when A is. */
export function symmetricTransition(a: Tensor): Tensor {
  return mul(add(a, transpose(a, [0, 2, 1])), 0.5);
}
