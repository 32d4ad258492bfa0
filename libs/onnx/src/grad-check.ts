// Test support only: central finite differences of a graph run on ORT CPU vs its symbolic gradient,
// lowered twice: as derived from the rule table (`optimize: false`, the reference) and optimised
// (closed-form composite backward, native ops). Both must match the differences.
import { cast, constant, type DType, grad, input, mul, sum, type Tensor, type TypedArray } from "@exits/graph";
import { compile, rng } from "./ort-harness.js";

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  /** Value generator from a uniform [0,1) source; default uniform in [-1, 1). */
  gen?: (u: () => number) => number;
  /** Fixed values (e.g. int64 indices); such inputs are not differentiated. */
  values?: TypedArray;
}

export interface GradCase {
  name: string;
  /** dtype of inputs that do not name one (default float64). */
  dtype?: DType;
  inputs: InputSpec[];
  build: (xs: Tensor[]) => Tensor;
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradCheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  /** Comparisons made: each input element against both lowerings. */
  checked: number;
  failures: string[];
}

function makeArray(dtype: DType, n: number): TypedArray {
  return dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
}

/**
 * loss = Σ cast(f(x), float64) · R with a fixed random R, so every output element matters.
 * Each element of every float input is perturbed by ±eps; the denominator is the actually
 * stored difference (exact in float64, rounded in float32).
 */
export async function gradCheck(c: GradCase): Promise<GradCheckResult> {
  const { eps = 1e-6, atol = 1e-7, rtol = 1e-6, seed = 1234 } = c;
  const u = rng(seed);
  const xs = c.inputs.map((spec, i) => input(`x${i}`, spec.shape, spec.dtype ?? c.dtype ?? "float64"));
  const y = c.build(xs);
  const r = new Float64Array(y.size).map(() => u() * 2 - 1);
  const loss = sum(mul(cast(y, "float64"), constant(r, y.shape, "float64")));
  const diffIdx = c.inputs.map((s, i) => (s.values ? -1 : i)).filter((i) => i >= 0);
  const grads = grad(
    loss,
    diffIdx.map((i) => xs[i]!),
  );
  const outputs: Record<string, Tensor> = { loss };
  diffIdx.forEach((i, k) => {
    outputs[`g${i}`] = grads[k]!;
  });
  const compiled = await compile(outputs, { optimize: false });
  const optimised = await compile(outputs);
  const feeds: Record<string, TypedArray> = {};
  c.inputs.forEach((spec, i) => {
    if (spec.values) feeds[`x${i}`] = spec.values;
    else {
      const gen = spec.gen ?? ((v: () => number) => v() * 2 - 1);
      const a = makeArray(
        spec.dtype ?? c.dtype ?? "float64",
        spec.shape.reduce((p, d) => p * d, 1),
      );
      for (let j = 0; j < a.length; j++) a[j] = gen(u);
      feeds[`x${i}`] = a;
    }
  });
  const base = await compiled.run(feeds);
  const fast = await optimised.run(feeds);
  const result: GradCheckResult = { maxAbsErr: 0, maxRelErr: 0, checked: 0, failures: [] };
  for (const i of diffIdx) {
    const x = feeds[`x${i}`] as Float32Array | Float64Array;
    const g = base[`g${i}`] as Float32Array | Float64Array;
    const gFast = fast[`g${i}`] as Float32Array | Float64Array;
    for (let j = 0; j < x.length; j++) {
      const orig = x[j]!;
      x[j] = orig + eps;
      const hi = x[j]!;
      const fPlus = ((await compiled.run(feeds))["loss"] as Float64Array)[0]!;
      x[j] = orig - eps;
      const lo = x[j]!;
      const fMinus = ((await compiled.run(feeds))["loss"] as Float64Array)[0]!;
      x[j] = orig;
      const numeric = (fPlus - fMinus) / (hi - lo);
      for (const [lowering, analytic] of [
        ["derived", g[j]!],
        ["optimised", gFast[j]!],
      ] as const) {
        const err = Math.abs(numeric - analytic);
        result.maxAbsErr = Math.max(result.maxAbsErr, err);
        result.maxRelErr = Math.max(result.maxRelErr, err / Math.max(Math.abs(numeric), 1e-12));
        result.checked++;
        if (!(err <= atol + rtol * Math.abs(numeric)) && result.failures.length < 5)
          result.failures.push(`x${i}[${j}] (${lowering}): analytic ${analytic} vs numeric ${numeric}`);
      }
    }
  }
  return result;
}
