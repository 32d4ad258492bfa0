import { add, diceLoss, max, mean, reshape, type Tensor } from "@exits/graph";

/** MAL's ε, added to each sum of squares of the Dice denominator (method §3.1). */
export const malDiceEps = 1e-3;

/**
 * Dice(x, y) = 1 − 2Σxy / ((Σx² + ε) + (Σy² + ε)) per sample over every axis but the first,
 * averaged over the batch: a scalar. `pred` holds probabilities (sigmoid of logits).
 */
export function dice(pred: Tensor, target: Tensor, eps = malDiceEps): Tensor {
  return mean(diceLoss(pred, target, { eps }));
}

/**
 * The MIL (box tightness) loss of method §3.1 on masks [B, H, W]:
 * Dice(Proj_x(M), Proj_x(B)) + Dice(Proj_y(M), Proj_y(B)), each averaged over the batch;
 * Proj_x is the max over each column (→ [B, W]), Proj_y the max over each row (→ [B, H]).
 */
export function milLoss(mask: Tensor, box: Tensor, eps = malDiceEps): Tensor {
  if (mask.rank !== 3) throw new Error(`milLoss: mask must be [B, H, W], got [${mask.shape.join(", ")}]`);
  const projX = (t: Tensor) => max(t, 1);
  const projY = (t: Tensor) => max(t, 2);
  const [b] = mask.shape as [number];
  const flat = (t: Tensor) => reshape(t, [b, t.size / b]);
  return add(dice(flat(projX(mask)), flat(projX(box)), eps), dice(flat(projY(mask)), flat(projY(box)), eps));
}
