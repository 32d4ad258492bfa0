import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CheckpointInfo, TrainingMetrics } from "@exits/contracts";
import type { Progress } from "@exits/exits";
import type { DataPaths } from "../paths/data-paths.js";

/** Hooks the service counts with (steps counter, step-time histogram). */
export interface TrainingMeters {
  onStep?(seconds: number): void;
}

/**
 * Turns runTrainLoop's per-step Progress into TrainingMetrics every `logEvery` steps (losses
 * averaged over the interval, as the proto asks) and notices the checkpoints it writes (every
 * `checkpointEvery` steps and after the last; the loop saves right after reporting, so a
 * checkpoint is announced once its directory exists, at the next step or at the end).
 */
export class TrainingProgressMapper {
  private sums: Record<string, number> = {};
  private count = 0;
  private pending: { step: number; epoch: number } | undefined;
  private lastTime = performance.now();
  latest: TrainingMetrics | undefined;

  constructor(
    private readonly o: {
      trainDir: string;
      paths: DataPaths;
      logEvery: number;
      checkpointEvery: number;
      lambdaCrfAt?: (step: number) => number;
      /** The extractor's step graph reports only the total, which is L_mil. */
      totalIsMil?: boolean;
      meters?: TrainingMeters;
      onMetrics(m: TrainingMetrics, etaMs: number | undefined): void;
      onCheckpoint(c: CheckpointInfo): void;
      onStatus(done: number, total: number, etaMs: number | undefined): void;
    },
  ) {}

  handle(p: Progress): void {
    const now = performance.now();
    this.o.meters?.onStep?.((now - this.lastTime) / 1000);
    this.lastTime = now;
    this.flushCheckpoint();
    const d = p.detail ?? {};
    for (const [k, v] of Object.entries(d))
      if (typeof v === "number" && k !== "epoch" && k !== "lr") this.sums[k] = (this.sums[k] ?? 0) + v;
    this.count++;
    const etaMs = p.etaSeconds === undefined ? undefined : Math.round(p.etaSeconds * 1000);
    const epoch = Math.max(0, Number(d.epoch ?? 1) - 1);
    if (p.done % this.o.logEvery === 0 || p.done === p.total) {
      const mean = (k: string) => (this.sums[k] ?? 0) / this.count;
      const m: TrainingMetrics = {
        epoch,
        step: p.done,
        totalSteps: p.total,
        lr: Number(d.lr ?? 0),
        loss: mean("total"),
        lossPoint: mean("point"),
        lossMil: this.o.totalIsMil ? mean("total") : mean("mil"),
        lossCrf: mean("crf"),
        lambdaCrf: this.o.lambdaCrfAt ? this.o.lambdaCrfAt(p.done - 1) : 0,
        retrievalCoverage: 0,
        objectsPerSecond: p.itemsPerSecond ?? 0,
      };
      this.latest = m;
      this.sums = {};
      this.count = 0;
      this.o.onMetrics(m, etaMs);
    } else {
      this.o.onStatus(p.done, p.total, etaMs);
    }
    if (p.done % this.o.checkpointEvery === 0 || p.done === p.total) this.pending = { step: p.done, epoch };
  }

  /** Announces the checkpoint of the last reported step if it was written. */
  flushCheckpoint(): void {
    const c = this.pending;
    if (!c) return;
    const dir = join(this.o.trainDir, "checkpoints", `step-${String(c.step).padStart(9, "0")}`);
    if (!existsSync(join(dir))) return;
    this.pending = undefined;
    this.o.onCheckpoint({ path: this.o.paths.toClient(dir), step: c.step, epoch: c.epoch, createdAtMs: Date.now() });
  }
}
