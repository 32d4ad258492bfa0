/** What a long stage reports after each unit of work (a CLI bar, a Watch stream, a log line). */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  unit: string;
  /** Seconds left at the rate so far (undefined before the first unit). */
  etaSeconds?: number;
  /** Crops (or images) per second so far. */
  itemsPerSecond?: number;
  /** Stage-specific figures (epoch, learning rate, losses). */
  detail?: Record<string, number | string>;
}

export type ProgressListener = (p: Progress) => void;

/**
 * A stage's progress over `total` units, timed from now: call it with the units done so far and
 * it reports the rate and an ETA at that rate (no-op without a listener).
 */
export function unitProgress(
  listener: ProgressListener | undefined,
  stage: string,
  unit: string,
  total: number,
): (done: number) => void {
  const t0 = performance.now();
  return (done) => {
    if (!listener || done <= 0) return;
    const elapsed = (performance.now() - t0) / 1000;
    listener({
      stage,
      done,
      total,
      unit,
      etaSeconds: ((total - done) * elapsed) / done,
      itemsPerSecond: done / elapsed,
    });
  };
}
