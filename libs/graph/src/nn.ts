import { type Conv2dOptions, conv2d } from "./conv.js";
import {
  abs,
  add,
  div,
  erf,
  exp,
  greaterEqual,
  log,
  maximum,
  minimum,
  mul,
  neg,
  reciprocal,
  sqrt,
  stopGradient,
  sub,
  where,
} from "./elementwise.js";
import { fail } from "./errors.js";
import { matmul } from "./matmul.js";
import { reshape, transpose } from "./movement.js";
import { max, sum } from "./reduce.js";
import { normAxes } from "./shape.js";
import { type Tensor, withRegion } from "./tensor.js";

// Composites: built from primitives only, so their gradients follow from the rule table.

export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const count = normAxes("mean", axes, x.rank).reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(x, axes, keepdims), count);
}

export const square = (x: Tensor) => mul(x, x);

/** min(max(x, lo), hi); the gradient is zero outside [lo, hi] (half at a bound, as maximum/minimum). */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  return minimum(maximum(x, lo), hi);
}
export const rsqrt = (x: Tensor) => reciprocal(sqrt(x));

/**
 * 1 / (1 + e^-x) evaluated through z = e^-|x| ≤ 1: no overflow, and both the value and the
 * gradient keep full relative precision in the tails (e.g. s(-15) ≈ 3e-7 exactly, not 0 or
 * a cancellation residue as with 0.5·(1 + tanh(x/2))). -|x| is written with `where` so the
 * gradient at exactly 0 is correct (abs' has slope 0 there).
 */
export function sigmoid(x: Tensor): Tensor {
  const nonNegative = greaterEqual(x, 0);
  const z = exp(where(nonNegative, neg(x), x));
  const r = reciprocal(add(z, 1));
  return mul(where(nonNegative, 1, z), r);
}

/** log(1 + e^x) = max(x, 0) + log(1 + e^-|x|). */
export function softplus(x: Tensor): Tensor {
  return add(maximum(x, 0), log(add(exp(neg(abs(x))), 1)));
}

export function logSigmoid(x: Tensor): Tensor {
  return neg(softplus(neg(x)));
}

/** The row maximum is subtracted for stability; it carries no gradient (softmax is shift-invariant). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normAxes("softmax", axis, x.rank)[0]!;
  return withRegion("softmax", [x], { axis: a }, () => {
    const e = exp(sub(x, stopGradient(max(x, a, true))));
    // e · (1/Σe): the reciprocal acts on the reduced tensor, so the backward pass needs fewer full-size passes.
    return { output: mul(e, reciprocal(sum(e, a, true))) };
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const s = sub(x, stopGradient(max(x, axis, true)));
  return sub(s, log(sum(exp(s), axis, true)));
}

/** Layer normalisation over the last axis (biased variance, like torch). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-6): Tensor {
  // The region is the normalisation; the affine part stays outside so its gradients use its output.
  let y = withRegion("layerNorm", [x], { eps }, () => {
    const d = sub(x, mean(x, -1, true));
    const rstd = rsqrt(add(mean(mul(d, d), -1, true), eps));
    return { output: mul(d, rstd), parts: { rstd } };
  });
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Exact (erf) GELU, torch's default. */
export function gelu(x: Tensor): Tensor {
  return withRegion("gelu", [x], {}, () => {
    const u = mul(x, Math.SQRT1_2);
    const cdf = add(mul(erf(u), 0.5), 0.5);
    return { output: mul(x, cdf), parts: { cdf, u } };
  });
}

/** x @ wᵀ + b with w in torch layout [out, in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  if (x.rank < 2) fail("linear", "input needs rank >= 2");
  const y = matmul(x, transpose(w, [1, 0]));
  return b ? add(y, b) : y;
}

export function conv2dBias(x: Tensor, w: Tensor, b: Tensor, opts?: Conv2dOptions): Tensor {
  return add(conv2d(x, w, opts), reshape(b, [1, b.size, 1, 1]));
}
