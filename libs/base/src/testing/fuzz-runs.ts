/**
 * How many cases a property-based (fuzz) test runs: `fallback` (sized for CI) unless the
 * environment variable EXITS_FUZZ_RUNS asks for more, e.g. `EXITS_FUZZ_RUNS=100000 npm test`.
 */
export function fuzzRuns(fallback: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env["EXITS_FUZZ_RUNS"];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new Error(`EXITS_FUZZ_RUNS: expected a positive integer, got "${raw}"`);
  }
  return Number(raw);
}
