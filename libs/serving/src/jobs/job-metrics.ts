import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { JOB_STATES, type JobStateName } from "./job-types.js";

/** What the metrics read from each manager at scrape time. */
export interface JobMetricsSource {
  readonly kind: string;
  /** Jobs per state. */
  stateCounts(): ReadonlyMap<JobStateName, number>;
  /** Progress in [0, 1] of each job now RUNNING or CANCELLING. */
  runningProgress(): readonly number[];
}

/** How a run ended, the `outcome` label. */
export type JobRunOutcome = "succeeded" | "failed" | "cancelled" | "interrupted";

interface Instruments {
  readonly sources: Set<JobMetricsSource>;
  readonly runs: Counter<"kind" | "outcome">;
  readonly runSeconds: Histogram<"kind" | "outcome">;
}

// One set of instruments per registry: a service with two managers (or a test with several)
// must not register a metric name twice.
const byRegistry = new WeakMap<Registry, Instruments>();

/**
 * Job metrics on a service's registry. Labels stay bounded: `kind`, `state`, `outcome`, never a
 * job id. `exits_jobs{kind,state}` and `exits_job_progress_ratio{kind}` (mean over running jobs)
 * are read at scrape time; runs are counted and timed as they end.
 */
export class JobMetrics {
  private readonly instruments: Instruments;

  constructor(
    registry: Registry,
    private readonly source: JobMetricsSource,
  ) {
    this.instruments = byRegistry.get(registry) ?? createInstruments(registry);
    byRegistry.set(registry, this.instruments);
    this.instruments.sources.add(source);
  }

  /** A run ended after `seconds`. */
  recordRun(outcome: JobRunOutcome, seconds: number): void {
    const labels = { kind: this.source.kind, outcome };
    this.instruments.runs.inc(labels);
    this.instruments.runSeconds.observe(labels, seconds);
  }

  /** Stops reporting this manager's jobs. */
  detach(): void {
    this.instruments.sources.delete(this.source);
  }
}

function createInstruments(registry: Registry): Instruments {
  const sources = new Set<JobMetricsSource>();
  new Gauge({
    name: "exits_jobs",
    help: "Jobs known to the service, by kind and state",
    labelNames: ["kind", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of sources) {
        const counts = source.stateCounts();
        for (const state of JOB_STATES)
          this.set({ kind: source.kind, state: state.toLowerCase() }, counts.get(state) ?? 0);
      }
    },
  });
  new Gauge({
    name: "exits_job_progress_ratio",
    help: "Mean progress in [0, 1] of the jobs now running, by kind (absent when none runs)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of sources) {
        const progress = source.runningProgress();
        if (progress.length > 0) this.set({ kind: source.kind }, progress.reduce((a, b) => a + b, 0) / progress.length);
      }
    },
  });
  const runs = new Counter({
    name: "exits_job_runs_total",
    help: "Job runs (attempts) that ended, by kind and outcome",
    labelNames: ["kind", "outcome"],
    registers: [registry],
  });
  const runSeconds = new Histogram({
    name: "exits_job_run_duration_seconds",
    help: "Wall time of job runs (attempts), by kind and outcome",
    labelNames: ["kind", "outcome"],
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600],
    registers: [registry],
  });
  return { sources, runs, runSeconds };
}
