import fc from "fast-check";

// The number of cases per target comes from the one reader of EXITS_FUZZ_RUNS, in @exits/base
// (`fuzzRuns(defaultRuns)`: the default sized so that all fuzz specs of this lib stay under
// ~20 s, or the variable's value, e.g. `EXITS_FUZZ_RUNS=100000` for a long run).
export { fuzzRuns } from "@exits/base";

/**
 * Runs `fn`, passing through errors of the module's own types and failing on anything else
 * (a TypeError, RangeError, ... is a crash the input should not be able to cause).
 */
export function onlyErrorsOf(types: (abstract new (...args: never[]) => Error)[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw new Error(`threw a foreign error: ${String(e)}`, { cause: e });
  }
}

/** `onlyErrorsOf` for async work. */
export async function onlyErrorsOfAsync(
  types: (abstract new (...args: never[]) => Error)[],
  fn: () => Promise<unknown>,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw new Error(`threw a foreign error: ${String(e)}`, { cause: e });
  }
}

// The watchdog runs in its own thread because a hang in synchronous code blocks the event loop:
// no timer of the test runner can fire then. The fuzzed code only bumps a shared counter per
// case; when it stops moving the watchdog writes straight to stderr (the main thread that would
// relay a worker's console is blocked) and kills the process, so the spec fails instead of
// stalling CI.
const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const ticks = new Int32Array(workerData.buffer);
const idle = new Int32Array(new SharedArrayBuffer(4));
let seen = Atomics.load(ticks, 0);
let since = Date.now();
for (;;) {
  Atomics.wait(idle, 0, 0, 200);
  if (Atomics.load(ticks, 1) === 1) break;
  const now = Atomics.load(ticks, 0);
  if (now !== seen) { seen = now; since = Date.now(); continue; }
  if (Date.now() - since > workerData.limitMs) {
    writeSync(2, "fuzz " + workerData.name + ": case " + (now + 1) + " ran over " + workerData.limitMs + " ms: hung\\n");
    process.kill(process.pid, "SIGKILL");
  }
}
`;

/** A running watchdog: `tick()` after each case, `stop()` at the end; `cases` counts ticks. */
export interface Watchdog {
  tick(): void;
  stop(): void;
  readonly cases: number;
}

/** Starts a watchdog that kills the process when no case finishes within `limitMs`. */
export async function startWatchdog(name: string, limitMs = 20_000): Promise<Watchdog> {
  const { Worker } = await import("node:worker_threads");
  const buffer = new SharedArrayBuffer(8);
  const ticks = new Int32Array(buffer);
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { buffer, limitMs, name } });
  worker.unref();
  return {
    tick: () => void Atomics.add(ticks, 0, 1),
    stop: () => void Atomics.store(ticks, 1, 1),
    get cases() {
      return Atomics.load(ticks, 0);
    },
  };
}

/**
 * Runs `check` on `runs` values of `arb` under a watchdog (a case that does not finish within
 * `limitMs` kills the process) and reports the number of cases with `t.diagnostic`.
 */
export async function runFuzz<T>(
  t: { diagnostic(message: string): void },
  name: string,
  runs: number,
  arb: fc.Arbitrary<T>,
  check: (value: T) => void | Promise<void>,
  limitMs?: number,
): Promise<void> {
  const dog = await startWatchdog(name, limitMs);
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (value) => {
        await check(value);
        dog.tick();
      }),
      { numRuns: runs },
    );
  } finally {
    dog.stop();
  }
  t.diagnostic(`${name}: ${runs} cases`);
}
