import { add } from "./elementwise.js";
import { fail } from "./errors.js";
import { grad } from "./grad.js";
import { input } from "./leaves.js";
import { type LeafSpec, paramsOf } from "./leaves-of.js";
import { type AdamWConfig, adamwUpdate, emaUpdate } from "./optim.js";
import type { Tensor } from "./tensor.js";
import { topoSort } from "./topo.js";

/** What {@link buildTrainStep} differentiates, optimises and reports. */
export interface TrainStepOptions {
  /** Scalar objective that is minimised. */
  loss: Tensor;
  /** Extra scalar loss terms reported as `loss:<key>`. */
  terms?: Record<string, Tensor>;
  /** Other outputs, reported under their key, not differentiated. */
  extras?: Record<string, Tensor>;
  /** Which param leaves are trained (default: every param the loss depends on). */
  trainable?: (name: string) => boolean;
  adamw?: AdamWConfig;
  /** Per-parameter weight decay; undefined keeps `adamw.weightDecay`. */
  weightDecay?: (name: string) => number | undefined;
  /** EMA teacher of the updated params: inputs `ema:<name>`, outputs `new_ema:<name>`. */
  ema?: { momentum: number; params?: (name: string) => boolean };
}

/** A training-step graph and the parameters it reads. */
export interface TrainStep {
  /** Keyed by ONNX output name (see {@link buildTrainStep}). */
  outputs: Record<string, Tensor>;
  /** Parameters updated by the step (inputs `param:<name>` with their moments). */
  params: LeafSpec[];
  /** Parameters read but not updated (inputs `param:<name>` only). */
  frozen: LeafSpec[];
}

/**
 * One optimiser step as a single graph: inputs `param:<n>`, `adam_m:<n>`, `adam_v:<n>`,
 * `step`, `lr`, [`ema:<n>`] and the batch; outputs `new_param:<n>`, `new_adam_m:<n>`,
 * `new_adam_v:<n>`, [`new_ema:<n>`], `loss`, `loss:<term>` and the extras.
 */
export function buildTrainStep(opts: TrainStepOptions): TrainStep {
  const terms = opts.terms ?? {};
  const extras = opts.extras ?? {};
  if (opts.loss.rank !== 0) fail("buildTrainStep", "loss must be a scalar");
  const roots = [opts.loss, ...Object.values(terms), ...Object.values(extras)];
  const specs = paramsOf(...roots);
  const leaves = new Map<string, Tensor[]>();
  for (const node of topoSort(roots)) {
    if (node.op !== "param") continue;
    const name = node.attrs["name"] as string;
    leaves.set(name, [...(leaves.get(name) ?? []), node]);
  }
  // By default every param the loss depends on is trained; params reached only through
  // extras or terms stay frozen inputs.
  const inLoss = new Set(paramsOf(opts.loss).map((p) => p.name));
  const isTrained = opts.trainable ?? ((name: string) => inLoss.has(name));
  const trained = specs.filter((p) => isTrained(p.name));
  const frozen = specs.filter((p) => !isTrained(p.name));

  const wrt = trained.flatMap((p) => leaves.get(p.name)!);
  const grads = grad(opts.loss, wrt);
  const lr = input("lr", [], "float32");
  const step = input("step", [], "float32");
  const outputs: Record<string, Tensor> = {};
  let k = 0;
  for (const { name } of trained) {
    const uses = leaves.get(name)!;
    let g = grads[k++]!;
    for (let j = 1; j < uses.length; j++) g = add(g, grads[k++]!);
    const p = uses[0]!;
    const m = input(`adam_m:${name}`, p.shape, p.dtype);
    const v = input(`adam_v:${name}`, p.shape, p.dtype);
    const decay = opts.weightDecay?.(name);
    const cfg = decay === undefined ? opts.adamw : { ...opts.adamw, weightDecay: decay };
    const next = adamwUpdate(p, g, m, v, lr, step, cfg);
    outputs[`new_param:${name}`] = next.param;
    outputs[`new_adam_m:${name}`] = next.m;
    outputs[`new_adam_v:${name}`] = next.v;
    if (opts.ema && (opts.ema.params ?? (() => true))(name)) {
      const teacher = input(`ema:${name}`, p.shape, p.dtype);
      outputs[`new_ema:${name}`] = emaUpdate(teacher, next.param, opts.ema.momentum);
    }
  }
  outputs["loss"] = opts.loss;
  for (const [key, t] of Object.entries(terms)) outputs[`loss:${key}`] = t;
  for (const [key, t] of Object.entries(extras)) {
    if (key in outputs) fail("buildTrainStep", `extra output "${key}" collides with a step output`);
    outputs[key] = t;
  }
  return { outputs, params: trained, frozen };
}
