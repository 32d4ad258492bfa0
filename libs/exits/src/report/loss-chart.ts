import type { LossRecord } from "../training/train-loop.js";
import { lineChart, type Series } from "./svg-chart.js";

/** At most this many points per curve: a long run is averaged in windows so it reads as a trend. */
const MAX_POINTS = 240;

/** One curve per loss term of the records (in first-seen order), by optimiser step. */
export function lossSeries(losses: readonly LossRecord[]): Series[] {
  const names = [...new Set(losses.flatMap((r) => Object.keys(r.losses)))];
  const window = Math.max(1, Math.ceil(losses.length / MAX_POINTS));
  return names.map((name) => {
    const points: [number, number][] = [];
    for (let i = 0; i < losses.length; i += window) {
      const part = losses.slice(i, i + window);
      const values = part.map((r) => r.losses[name]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (values.length === 0) continue;
      const step = part.reduce((s, r) => s + r.step, 0) / part.length;
      points.push([step, values.reduce((a, b) => a + b, 0) / values.length]);
    }
    return { name, points };
  });
}

export function lossChart(title: string, losses: readonly LossRecord[]): string {
  const window = Math.ceil(losses.length / MAX_POINTS);
  const xLabel = window > 1 ? `optimiser step (mean of ${window} steps per point)` : "optimiser step";
  return lineChart(title, lossSeries(losses), xLabel);
}
