import { isFloat } from "./dtype.js";
import { add } from "./elementwise.js";
import { fail } from "./errors.js";
import { acceptsBroadcastCotangent, type GradRule, gradRules, NONDIFF } from "./grad-rules.js";
import { scalar, zeros } from "./leaves.js";
import { expand, reshape } from "./movement.js";
import { sum } from "./reduce.js";
import { sameShape } from "./shape.js";
import { shapeString, type Tensor } from "./tensor.js";
import { topoSort } from "./topo.js";

/**
 * Sums a cotangent back to `shape` where it was broadcast: the one place un-broadcasting
 * happens. A cotangent that is *smaller* than `shape` but broadcasts to it is kept as it is
 * (a deferred expansion: e.g. the cotangent of a sum stays [..., 1] instead of a full copy).
 */
function unbroadcast(op: string, g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = Math.max(g.rank - shape.length, 0);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    const target = shape[i - g.rank + shape.length] ?? 1;
    if (i < lead || (target === 1 && d !== 1)) axes.push(i);
    else if (d !== target && d !== 1)
      fail(op, `gradient ${shapeString(g.shape)} does not broadcast to ${shapeString(shape)}`);
  });
  if (axes.length === 0) return g;
  const reduced = sum(g, axes, true);
  return reshape(reduced, reduced.shape.slice(lead));
}

function full(g: Tensor, shape: readonly number[]): Tensor {
  return sameShape(g.shape, shape) ? g : expand(g, shape);
}

/**
 * Reverse-mode vector-Jacobian product: cotangents of `wrt` given cotangents of `outputs`.
 * Only nodes on a path from some `wrt` to some output are differentiated; a primitive on such
 * a path without a rule throws, naming the op.
 */
export function vjp(outputs: readonly Tensor[], cotangents: readonly Tensor[], wrt: readonly Tensor[]): Tensor[] {
  if (outputs.length !== cotangents.length) fail("vjp", "one cotangent per output is needed");
  for (const w of wrt) if (!isFloat(w.dtype)) fail("vjp", `cannot differentiate with respect to a ${w.dtype} tensor`);
  const order = topoSort(outputs);
  const wrtIds = new Set(wrt.map((w) => w.id));

  // Forward pass over the order: does this node depend on some wrt through differentiable ops?
  const live = new Set<number>();
  for (const node of order) {
    if (wrtIds.has(node.id)) live.add(node.id);
    else if (gradRules[node.op] !== NONDIFF && isFloat(node.dtype) && node.inputs.some((x) => live.has(x.id)))
      live.add(node.id);
  }

  const grads = new Map<number, Tensor>();
  const accumulate = (node: Tensor, g: Tensor) => {
    const prev = grads.get(node.id);
    grads.set(node.id, prev ? add(prev, g) : g);
  };
  outputs.forEach((out, i) => {
    const c = cotangents[i]!;
    if (!sameShape(c.shape, out.shape) || c.dtype !== out.dtype)
      fail(
        "vjp",
        `cotangent ${shapeString(c.shape)} ${c.dtype} does not match output ${shapeString(out.shape)} ${out.dtype}`,
      );
    if (live.has(out.id)) accumulate(out, c);
  });

  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    const g = grads.get(node.id);
    if (!g) continue;
    const wants = node.inputs.map((x) => live.has(x.id));
    if (!wants.some(Boolean)) continue;
    const rule = gradRules[node.op];
    if (rule === undefined) fail(node.op, `no gradient rule for op "${node.op}"`);
    if (rule === NONDIFF) continue;
    const cot = acceptsBroadcastCotangent.has(node.op) ? g : full(g, node.shape);
    const contributions = (rule as GradRule)(cot, node, wants);
    node.inputs.forEach((x, i) => {
      const c = contributions[i];
      if (!wants[i] || c === undefined) return;
      if (c.dtype !== x.dtype) fail(node.op, `gradient rule returned ${c.dtype} for a ${x.dtype} input`);
      accumulate(x, unbroadcast(node.op, c, x.shape));
    });
  }
  return wrt.map((w) => {
    const g = grads.get(w.id);
    return g ? full(g, w.shape) : zeros(w.shape, w.dtype);
  });
}

/** Gradients of a scalar float `loss` with respect to each tensor of `wrt`. */
export function grad(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.rank !== 0 || !isFloat(loss.dtype))
    fail("grad", `loss must be a float scalar, got ${shapeString(loss.shape)} ${loss.dtype}`);
  return vjp([loss], [scalar(1, loss.dtype)], wrt);
}
