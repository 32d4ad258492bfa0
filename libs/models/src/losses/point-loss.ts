import { add, avgPool2d, diceLoss, max, mul, reshape, type Tensor } from "@exits/graph";
import { malDiceEps } from "./dice.js";

/** Dice per object (axis 0) over every other axis: [B]. */
export function diceLossPerObject(pred: Tensor, target: Tensor, eps = malDiceEps): Tensor {
  return diceLoss(pred, target, { eps });
}

/** The MIL loss of method §3.1 per object: Dice of the column maxima plus Dice of the row maxima, [B]. */
export function milLossPerObject(mask: Tensor, box: Tensor, eps = malDiceEps): Tensor {
  if (mask.rank !== 3) throw new Error(`milLossPerObject: mask must be [B, H, W], got [${mask.shape.join(", ")}]`);
  return add(diceLossPerObject(max(mask, 1), max(box, 1), eps), diceLossPerObject(max(mask, 2), max(box, 2), eps));
}

/**
 * The point loss of method §3.6 per object, [B]: the mask [B, R, R] average-pooled to the patch
 * grid (M̃), Dice(M̃ ⊙ K, Ŷ) over the labelled patches, plus λ_mil · L_mil where `fallback` is 1
 * (objects without any retrieved point). target Ŷ and known K are [B, N, N]; box [B, R, R].
 */
export function pointLoss(
  mask: Tensor,
  target: Tensor,
  known: Tensor,
  fallback: Tensor,
  box: Tensor,
  lambdaMil: number,
): Tensor {
  const [b, r] = mask.shape as [number, number];
  const n = target.shape[1]!;
  if (r % n !== 0) throw new Error(`pointLoss: mask side ${r} is not a multiple of the grid ${n}`);
  const pooled = reshape(avgPool2d(reshape(mask, [b, 1, r, r]), r / n), [b, n, n]);
  const points = diceLossPerObject(mul(pooled, known), target);
  return add(points, mul(fallback, mul(milLossPerObject(mask, box), lambdaMil)));
}
