import { type LrScheduleConfig, lrAt, type TrainStep } from "@exits/graph";
import type { LowerOptions } from "@exits/onnx";
import type { CheckpointData, LoadedCheckpoint } from "../checkpoint/checkpoint-store.js";
import { type HostTensor, zeros } from "../tensor/host-tensor.js";
import { type CompiledGraph, compileGraph } from "./graph-session.js";
import type { CreateSessionOptions } from "./runtime-session.js";

/** What one optimiser step reports: the loss, each `loss:<term>`, and the extras, by output name. */
export type StepResult = Record<string, HostTensor>;

/**
 * Runs a training-step graph (see `buildTrainStep`) repeatedly: it keeps parameters and AdamW
 * moments (and EMA weights) in host memory, feeds them with the batch, `step` and `lr`, and
 * swaps in the new values each step. State names follow the graph: `param:<n>`, `adam_m:<n>`,
 * `adam_v:<n>`, `ema:<n>`.
 */
export class TrainStepRunner {
  /** Optimiser steps taken (the next update is `step + 1`). */
  step = 0;
  private readonly state = new Map<string, HostTensor>();
  private readonly stateOutputs: [output: string, input: string][] = [];

  private constructor(
    readonly graph: CompiledGraph,
    readonly trainStep: TrainStep,
  ) {
    for (const input of graph.model.inputs) {
      const m = /^(param|adam_m|adam_v|ema):(.*)$/.exec(input.name);
      if (m && `new_${input.name}` in trainStep.outputs) this.stateOutputs.push([`new_${input.name}`, input.name]);
    }
  }

  /**
   * Compiles the step. `initial` maps parameter names (without prefix) to their first values;
   * moments start at zero, EMA weights at the parameters.
   */
  static async create(
    trainStep: TrainStep,
    initial: ReadonlyMap<string, HostTensor>,
    options: CreateSessionOptions & { readonly lower?: LowerOptions } = {},
  ): Promise<TrainStepRunner> {
    const runner = new TrainStepRunner(await compileGraph(trainStep.outputs, options), trainStep);
    for (const spec of [...trainStep.params, ...trainStep.frozen]) {
      const value = initial.get(spec.name);
      if (!value) throw new Error(`TrainStepRunner: no initial value for parameter "${spec.name}"`);
      if (value.dtype !== spec.dtype || value.shape.join() !== spec.shape.join()) {
        throw new Error(
          `TrainStepRunner: "${spec.name}" must be ${spec.dtype}[${spec.shape.join(", ")}], got ${value.dtype}[${value.shape.join(", ")}]`,
        );
      }
      runner.state.set(`param:${spec.name}`, value);
    }
    for (const input of runner.graph.model.inputs) {
      const m = /^(adam_m|adam_v|ema):(.*)$/.exec(input.name);
      if (!m) continue;
      runner.state.set(
        input.name,
        m[1] === "ema" ? runner.state.get(`param:${m[2]}`)! : zeros(input.dtype, input.shape),
      );
    }
    return runner;
  }

  /** Runs one update with learning rate `lr` on `batch` (the graph's `input()` leaves). */
  async run(batch: Readonly<Record<string, HostTensor>>, lr: number): Promise<StepResult> {
    const feeds: Record<string, HostTensor> = { ...batch };
    for (const [k, v] of this.state) feeds[k] = v;
    feeds.step = { dtype: "float32", shape: [], data: Float32Array.of(this.step + 1) };
    feeds.lr = { dtype: "float32", shape: [], data: Float32Array.of(lr) };
    const out = await this.graph.run(feeds);
    for (const [o, i] of this.stateOutputs) {
      this.state.set(i, out[o]!);
      delete out[o];
    }
    this.step++;
    return out;
  }

  /** Runs one update with the learning rate of the schedule at the current step. */
  runScheduled(batch: Readonly<Record<string, HostTensor>>, schedule: LrScheduleConfig): Promise<StepResult> {
    return this.run(batch, lrAt(this.step, schedule));
  }

  /** Current parameters by name (without the `param:` prefix). */
  parameters(): Map<string, HostTensor> {
    return this.pick("param:");
  }

  /** Optimiser state by its graph name (`adam_m:<n>`, `adam_v:<n>`, `ema:<n>`). */
  optimizerState(): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const [k, v] of this.state) if (!k.startsWith("param:")) out.set(k, v);
    return out;
  }

  /** Everything a checkpoint needs (add `config`). */
  checkpoint(config: unknown, extra?: unknown): CheckpointData {
    return { step: this.step, parameters: this.parameters(), optimizerState: this.optimizerState(), config, extra };
  }

  /** Restores parameters, optimiser state and the step counter from a checkpoint. */
  restore(c: Pick<LoadedCheckpoint, "step" | "parameters" | "optimizerState">): void {
    for (const key of this.state.keys()) {
      const value = key.startsWith("param:") ? c.parameters.get(key.slice(6)) : c.optimizerState.get(key);
      if (!value) throw new Error(`TrainStepRunner.restore: the checkpoint lacks "${key}"`);
      this.state.set(key, value);
    }
    this.step = c.step;
  }

  private pick(prefix: string): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const [k, v] of this.state) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
    return out;
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}
