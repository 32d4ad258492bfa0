import { add, cast, div, mul, pow, sqrt, sub } from "./elementwise.js";
import { fail } from "./errors.js";
import { scalar } from "./leaves.js";
import { sameShape } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** torch.optim.AdamW's hyper-parameters (its defaults, except the learning rate, fed per step). */
export interface AdamWConfig {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected √v; default 1e-8. */
  eps?: number;
  /** Decoupled: p ← p·(1 − lr·weightDecay) before the Adam step; default 1e-2. */
  weightDecay?: number;
}

interface AdamWScalars {
  lr: Tensor;
  stepSize: Tensor;
  bc2Sqrt: Tensor;
}

// Scalars shared by every parameter of one step, built once per (lr, step, betas, dtype).
const scalarCache = new WeakMap<Tensor, Map<string, AdamWScalars>>();

/**
 * Bias corrections 1 - β^t lose about 1e-5 relative precision in float32 (β = 0.999 is not
 * representable), so these few scalars are computed in float64 and cast once.
 */
function adamScalars(lr: Tensor, step: Tensor, beta1: number, beta2: number, dtype: Tensor["dtype"]): AdamWScalars {
  const key = `${step.id}:${beta1}:${beta2}:${dtype}`;
  let byKey = scalarCache.get(lr);
  if (!byKey) {
    byKey = new Map();
    scalarCache.set(lr, byKey);
  }
  const hit = byKey.get(key);
  if (hit) return hit;
  const t = cast(step, "float64");
  const lr64 = cast(lr, "float64");
  const bc1 = sub(1, pow(scalar(beta1, "float64"), t));
  const bc2 = sub(1, pow(scalar(beta2, "float64"), t));
  const out = { lr: cast(lr, dtype), stepSize: cast(div(lr64, bc1), dtype), bc2Sqrt: cast(sqrt(bc2), dtype) };
  byKey.set(key, out);
  return out;
}

/**
 * One torch.optim.AdamW update (decoupled weight decay, bias correction, eps added to the
 * corrected sqrt(v)). `lr` and `step` are scalar tensors; `step` is 1 for the first update.
 */
export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  lr: Tensor,
  step: Tensor,
  cfg: AdamWConfig = {},
): { param: Tensor; m: Tensor; v: Tensor } {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-2 } = cfg;
  for (const t of [g, m, v])
    if (!sameShape(t.shape, p.shape) || t.dtype !== p.dtype)
      fail("adamwUpdate", "gradient and moments must match the parameter");
  const s = adamScalars(lr, step, beta1, beta2, p.dtype);
  const decayed = weightDecay !== 0 ? mul(p, sub(1, mul(s.lr, weightDecay))) : p;
  const m2 = add(mul(m, beta1), mul(g, 1 - beta1));
  const v2 = add(mul(v, beta2), mul(mul(g, g), 1 - beta2));
  const denom = add(div(sqrt(v2), s.bc2Sqrt), eps);
  return { param: sub(decayed, mul(s.stepSize, div(m2, denom))), m: m2, v: v2 };
}

/** Exponential moving average: momentum · teacher + (1 − momentum) · student. */
export function emaUpdate(teacher: Tensor, student: Tensor, momentum: Tensor | number): Tensor {
  if (!sameShape(teacher.shape, student.shape)) fail("emaUpdate", "teacher and student shapes differ");
  if (typeof momentum === "number") return add(mul(teacher, momentum), mul(student, 1 - momentum));
  const m = cast(momentum, teacher.dtype);
  return add(mul(teacher, m), mul(student, sub(1, m)));
}
