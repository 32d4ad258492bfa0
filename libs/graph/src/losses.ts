import { add, div, mul, sub } from "./elementwise.js";
import { fail } from "./errors.js";
import { sum } from "./reduce.js";
import { sameShape } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** Options of {@link diceLoss}. */
export interface DiceOptions {
  /** Added to each sum of squares in the denominator (MAL: 1e-3). */
  eps?: number;
}

/** Per-sample Dice loss 1 − 2Σxy / ((Σx² + eps) + (Σy² + eps)) over all axes but the first; shape [N]. */
export function diceLoss(pred: Tensor, target: Tensor, opts: DiceOptions = {}): Tensor {
  if (pred.rank < 2 || !sameShape(pred.shape, target.shape))
    fail("diceLoss", "pred and target must share a shape [N, ...]");
  const eps = opts.eps ?? 1e-3;
  const axes = [...pred.shape.keys()].slice(1);
  const inter = sum(mul(pred, target), axes);
  const denom = add(add(sum(mul(pred, pred), axes), eps), add(sum(mul(target, target), axes), eps));
  return sub(1, div(mul(inter, 2), denom));
}
