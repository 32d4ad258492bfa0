import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Logger, silentLogger, writeFileAtomic } from "@exits/base";
import { mixSeed } from "@exits/dataset";
import { type LrScheduleConfig, lrAt, Rng, type TrainStep } from "@exits/graph";
import { CheckpointStore, type HostTensor, type RuntimeConfig, TrainStepRunner } from "@exits/runtime";
import type { TrainingConfig } from "../config/method-config.js";
import type { Progress } from "./progress.js";

/** One optimiser step as logged: its index (1-based), the learning rate and every loss term. */
export interface LossRecord {
  step: number;
  epoch: number;
  lr: number;
  losses: Record<string, number>;
}

export interface TrainLoopSpec {
  /** Stage name, for progress and errors ("extractor", "generator"). */
  stage: string;
  /** Job directory: `checkpoints/` and `losses.jsonl` live here. */
  dir: string;
  training: TrainingConfig;
  /** The whole resolved job configuration; a checkpoint made under another one is refused. */
  jobConfig: unknown;
  seed: number;
  /** Objects per epoch (the batch is min(batch, objects)). */
  objects: number;
  step: TrainStep;
  initial: ReadonlyMap<string, HostTensor>;
  /**
   * The graph inputs of one optimiser step. `rng` is derived from (seed, step) alone, so a resumed
   * job draws exactly what an uninterrupted one would have.
   */
  batch(indices: number[], step: number, rng: Rng): Promise<Record<string, HostTensor>>;
  runtime?: Partial<RuntimeConfig>;
  logger?: Logger;
  onProgress?: (p: Progress) => void;
  /** Stop cleanly (checkpoint, then return) once this many seconds have passed. */
  budgetSeconds?: number;
  signal?: AbortSignal;
  /**
   * After the last step of each epoch (0-based `epoch`), with the weights at that point: for
   * per-epoch validation. Runs outside the graph and draws nothing, so it cannot change the
   * losses a resumed job logs.
   */
  onEpochEnd?: (
    epoch: number,
    state: { parameters: Map<string, HostTensor>; optimizerState: Map<string, HostTensor> },
  ) => Promise<void>;
}

export interface TrainLoopResult {
  parameters: Map<string, HostTensor>;
  optimizerState: Map<string, HostTensor>;
  losses: LossRecord[];
  steps: number;
  totalSteps: number;
  /** Steps this process ran (the rest came from a checkpoint). */
  ranSteps: number;
  resumedFrom: number | undefined;
  stoppedEarly: boolean;
  seconds: number;
}

/** Batch size and steps of a training stage over `objects` objects (last partial batch dropped). */
export function trainingShape(
  training: TrainingConfig,
  objects: number,
): { batch: number; stepsPerEpoch: number; totalSteps: number } {
  if (objects < 1) throw new Error("training needs at least one object");
  const batch = Math.min(training.batch, objects);
  const stepsPerEpoch = Math.floor(objects / batch);
  return { batch, stepsPerEpoch, totalSteps: stepsPerEpoch * training.epochs };
}

/** The object indices of every step of epoch `epoch`: a seeded permutation, cut into batches. */
export function epochBatches(seed: number, epoch: number, objects: number, batch: number): number[][] {
  const order = Array.from({ length: objects }, (_, i) => i);
  const rng = new Rng(mixSeed(seed, epoch, 0x5eed));
  for (let i = objects - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const out: number[][] = [];
  for (let s = 0; s + batch <= objects; s += batch) out.push(order.slice(s, s + batch));
  return out;
}

/**
 * Runs a training stage: one ONNX step graph per optimiser step (forward, backward, AdamW and EMA
 * in one `session.run`), warm-up then cosine learning rate, a checkpoint every K steps and at the
 * end, every step's losses appended to `losses.jsonl`. Started again on the same directory it
 * resumes from the newest complete checkpoint and rewrites the log up to that step, so the log
 * of a killed-and-resumed job equals an uninterrupted one's (same seed ⇒ same batches, same draws).
 */
export async function runTrainLoop(spec: TrainLoopSpec): Promise<TrainLoopResult> {
  const logger = spec.logger ?? silentLogger;
  const t0 = performance.now();
  const { batch, stepsPerEpoch, totalSteps } = trainingShape(spec.training, spec.objects);
  const schedule: LrScheduleConfig = {
    baseLr: spec.training.lr,
    warmupSteps: Math.max(1, Math.round(spec.training.warmupEpochs * stepsPerEpoch)),
    totalSteps,
    minLrFactor: spec.training.minLrFactor,
  };
  const store = new CheckpointStore(join(spec.dir, "checkpoints"), { keep: 2, logger });
  const runner = await TrainStepRunner.create(spec.step, spec.initial, {
    config: spec.runtime,
    logger,
    name: `${spec.stage}-step`,
  });
  await mkdir(spec.dir, { recursive: true });
  const logPath = join(spec.dir, "losses.jsonl");
  let losses: LossRecord[] = [];
  let resumedFrom: number | undefined;
  try {
    const latest = await store.loadLatest();
    if (latest) {
      const want = JSON.stringify(spec.jobConfig);
      if (JSON.stringify(latest.config) !== want) {
        throw new Error(
          `${spec.stage}: the checkpoint in ${store.directory} was made with another configuration; use a new job directory or the same configuration`,
        );
      }
      runner.restore(latest);
      resumedFrom = latest.step;
      losses = (await readLossLog(logPath)).filter((r) => r.step <= latest.step);
      await writeLossLog(logPath, losses);
      logger.info(`${spec.stage}: resumed from checkpoint`, { step: latest.step, dir: latest.path });
    } else {
      await writeLossLog(logPath, []);
    }
    const startStep = runner.step;
    let stoppedEarly = false;
    let pending: string[] = [];
    const flushLog = async () => {
      if (pending.length === 0) return;
      await appendFile(logPath, pending.join(""));
      pending = [];
    };
    const save = async () => {
      await flushLog();
      await store.save(runner.checkpoint(spec.jobConfig, { totalSteps }));
    };
    let batches: number[][] = [];
    let batchesEpoch = -1;
    const tRun = performance.now();
    while (runner.step < totalSteps) {
      if (spec.signal?.aborted) throw spec.signal.reason ?? new Error(`${spec.stage}: cancelled`);
      const step = runner.step; // 0-based index of this update
      const epoch = Math.floor(step / stepsPerEpoch);
      if (epoch !== batchesEpoch) {
        batches = epochBatches(spec.seed, epoch, spec.objects, batch);
        batchesEpoch = epoch;
      }
      const indices = batches[step % stepsPerEpoch]!;
      const feeds = await spec.batch(indices, step, new Rng(mixSeed(spec.seed, step, 0xba7c)));
      const lr = lrAt(step, schedule);
      const out = await runner.run(feeds, lr);
      const record: LossRecord = { step: step + 1, epoch, lr, losses: {} };
      for (const [k, v] of Object.entries(out)) {
        if (k === "loss" || k.startsWith("loss:"))
          record.losses[k === "loss" ? "total" : k.slice(5)] = v.data[0] as number;
      }
      if (!Number.isFinite(record.losses.total)) {
        throw new Error(`${spec.stage}: loss is ${record.losses.total} at step ${step + 1}; lower the learning rate`);
      }
      losses.push(record);
      pending.push(`${JSON.stringify(record)}\n`);
      const done = runner.step;
      const elapsed = (performance.now() - tRun) / 1000;
      const ran = done - startStep;
      spec.onProgress?.({
        stage: spec.stage,
        done,
        total: totalSteps,
        unit: "steps",
        etaSeconds: ran > 0 ? ((totalSteps - done) * elapsed) / ran : undefined,
        itemsPerSecond: ran > 0 ? (ran * batch) / elapsed : undefined,
        detail: { epoch: epoch + 1, lr, ...record.losses },
      });
      if (done % spec.training.checkpointEvery === 0 || done === totalSteps) await save();
      if (spec.onEpochEnd && done % stepsPerEpoch === 0)
        await spec.onEpochEnd(done / stepsPerEpoch - 1, {
          parameters: runner.parameters(),
          optimizerState: runner.optimizerState(),
        });
      if (
        spec.budgetSeconds !== undefined &&
        (performance.now() - t0) / 1000 > spec.budgetSeconds &&
        done < totalSteps
      ) {
        stoppedEarly = true;
        await save();
        logger.warn(`${spec.stage}: wall-clock budget reached; stopping early`, { step: done, totalSteps });
        break;
      }
    }
    await flushLog();
    return {
      parameters: runner.parameters(),
      optimizerState: runner.optimizerState(),
      losses,
      steps: runner.step,
      totalSteps,
      ranSteps: runner.step - startStep,
      resumedFrom,
      stoppedEarly,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await runner.release();
  }
}

export async function readLossLog(path: string): Promise<LossRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  const out: LossRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LossRecord);
    } catch {
      break; // a line torn by a crash ends the readable log
    }
  }
  return out;
}

async function writeLossLog(path: string, records: LossRecord[]): Promise<void> {
  await writeFileAtomic(path, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
}
