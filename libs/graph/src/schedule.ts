/** Linear warm-up then cosine decay, evaluated in TypeScript by {@link lrAt} and fed as `lr`. */
export interface LrScheduleConfig {
  /** Peak learning rate, reached at the end of the warm-up. */
  baseLr: number;
  /** Steps of linear warm-up: step s < warmupSteps gets baseLr·(s + 1)/warmupSteps. */
  warmupSteps: number;
  /** Step at which the cosine reaches its floor. */
  totalSteps: number;
  /** Floor of the cosine as a fraction of baseLr (method.md §3.6: 0.2). */
  minLrFactor?: number;
}

/**
 * Learning rate for the 0-based optimiser step: linear warm-up to baseLr over warmupSteps,
 * then cosine decay to minLrFactor·baseLr at totalSteps, held there afterwards.
 */
export function lrAt(step: number, cfg: LrScheduleConfig): number {
  const { baseLr, warmupSteps, totalSteps, minLrFactor = 0.2 } = cfg;
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const span = Math.max(totalSteps - warmupSteps, 1);
  const progress = Math.min((step - warmupSteps) / span, 1);
  const floor = baseLr * minLrFactor;
  return floor + (baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
