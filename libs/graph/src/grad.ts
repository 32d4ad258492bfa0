import { isFloat } from "./dtype.js";
import { add } from "./elementwise.js";
import { fail } from "./errors.js";
import { acceptsBroadcastCotangent, gradRules, NONDIFF } from "./grad-rules.js";
import { scalar, zeros } from "./leaves.js";
import { expand, reshape } from "./movement.js";
import { sum } from "./reduce.js";
import { sameShape } from "./shape.js";
import { type Region, shapeString, type Tensor } from "./tensor.js";
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

/** What {@link regionGradient} knows about a cotangent. */
export interface RegionGradient {
  /** The composite whose derived backward produced the cotangent. */
  region: Region;
  /** Which of `region.inputs` it is the cotangent of. */
  input: number;
  /** The cotangent of `region.output` (full shape) it was derived from. */
  cotangent: Tensor;
}

const regionGradients = new WeakMap<Tensor, RegionGradient>();

/**
 * For a tensor that `vjp`/`grad` built as the total contribution of one composite region to
 * one of its inputs (the region's derived backward, summed over its internal uses of that
 * input): which region, which input, and the region output's cotangent. A lowering may replace
 * such a tensor by any expression of equal value (e.g. softmax's y ⊙ (g − Σ g ⊙ y)). Present
 * only when every internal value of the region feeds nothing outside it.
 */
export function regionGradient(t: Tensor): RegionGradient | undefined {
  return regionGradients.get(t);
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
  // Contributions of a region's internal nodes to a tensor outside it are summed apart (per
  // region) and recorded for the lowering before they join the tensor's other contributions.
  // A region is "open" when an internal value also feeds something outside it; its sums are
  // still correct but not recorded.
  const regionSums = new Map<number, Map<Region, Tensor>>();
  const regionCotangent = new Map<Region, Tensor>();
  const open = new Set<Region>();
  const flushRegions = (node: Tensor) => {
    const byRegion = regionSums.get(node.id);
    if (!byRegion) return;
    regionSums.delete(node.id);
    for (const [region, c] of byRegion) {
      const input = region.inputs.indexOf(node);
      const cotangent = regionCotangent.get(region);
      if (!open.has(region) && input >= 0 && cotangent && !regionGradients.has(c))
        regionGradients.set(c, { region, input, cotangent });
      accumulate(node, c);
    }
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
    flushRegions(node);
    const g = grads.get(node.id);
    if (!g) continue;
    const region = node.region?.output ? node.region : undefined;
    if (region && node === region.output) regionCotangent.set(region, full(g, node.shape));
    const wants = node.inputs.map((x) => live.has(x.id));
    if (!wants.some(Boolean)) continue;
    const rule = gradRules[node.op];
    if (rule === undefined) fail(node.op, `no gradient rule for op "${node.op}"`);
    if (rule === NONDIFF) continue;
    const cot = acceptsBroadcastCotangent(rule) ? g : full(g, node.shape);
    const contributions = rule(cot, node, wants);
    node.inputs.forEach((x, i) => {
      const c = contributions[i];
      if (!wants[i] || c === undefined) return;
      if (c.dtype !== x.dtype) fail(node.op, `gradient rule returned ${c.dtype} for a ${x.dtype} input`);
      const contribution = unbroadcast(node.op, c, x.shape);
      if (x.region && x.region !== region && x !== x.region.output) open.add(x.region);
      if (region && x.region !== region) {
        const byRegion = regionSums.get(x.id) ?? new Map<Region, Tensor>();
        const prev = byRegion.get(region);
        byRegion.set(region, prev ? add(prev, contribution) : contribution);
        regionSums.set(x.id, byRegion);
      } else accumulate(x, contribution);
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
