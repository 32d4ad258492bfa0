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
