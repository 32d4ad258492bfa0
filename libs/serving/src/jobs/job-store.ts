import { appendFile, mkdir, open, readdir, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { type Logger, writeFileAtomic } from "@exits/base";
import { JOB_ID_PATTERN } from "./job-id.js";
import { JOB_STATES, type JobClaim, type JobEvent, type JobStatusRecord } from "./job-types.js";

/** `job.json` as written: the snapshot plus what only the manager reads. */
export interface StoredJob<Spec, Resolved, Extras> {
  format: 1;
  id: string;
  kind: string;
  requestId: string;
  labels: Record<string, string>;
  spec: Spec;
  resolvedSpec: Resolved;
  status: JobStatusRecord;
  extras: Extras;
  claims: JobClaim[];
  resumeArgument?: unknown;
  lastSequence: number;
  /** Interrupted by a restart or a shutdown (not by a user): `recover` re-queues it. */
  autoResume: boolean;
}

export const JOB_FILE = "job.json";
export const EVENTS_FILE = "events.jsonl";

/** Rewrites `<jobDir>/job.json` atomically (temporary file, fsync, rename). */
export function writeJobFile(jobDir: string, job: StoredJob<unknown, unknown, unknown>): Promise<void> {
  return writeFileAtomic(join(jobDir, JOB_FILE), `${JSON.stringify(job)}\n`);
}

/** Appends events, one JSON object a line (no fsync: a process kill keeps them, a power loss may not). */
export async function appendEvents(jobDir: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await mkdir(jobDir, { recursive: true });
  await appendFile(join(jobDir, EVENTS_FILE), lines.join(""));
}

/** Every readable event of a job, in file order; lines that do not parse are skipped. */
export async function readEvents<Event>(jobDir: string): Promise<JobEvent<Event>[]> {
  let text: string;
  try {
    text = await readFile(join(jobDir, EVENTS_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const events: JobEvent<Event>[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const event = JSON.parse(line) as JobEvent<Event>;
      if (Number.isInteger(event.sequence) && event.sequence > 0) events.push(event);
    } catch {
      // A line torn by a crash; the next events start on a line of their own (see loadJobs).
    }
  }
  return events;
}

/** A job read back from disk, with the sequence its next event gets. */
export interface LoadedJob<Spec, Resolved, Extras> {
  readonly job: StoredJob<Spec, Resolved, Extras>;
  readonly lastSequence: number;
}

/**
 * Reads every job under `dir`. A job whose job.json is missing or corrupt is skipped with a
 * warning (never a crash: one bad file must not take the service down). An events file torn
 * mid-line by a kill is cut back to its last complete line so appends stay parseable.
 */
export async function loadJobs<Spec, Resolved, Extras>(
  dir: string,
  kind: string,
  logger: Logger,
): Promise<LoadedJob<Spec, Resolved, Extras>[]> {
  await mkdir(dir, { recursive: true });
  const loaded: LoadedJob<Spec, Resolved, Extras>[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !JOB_ID_PATTERN.test(entry.name)) continue;
    const jobDir = join(dir, entry.name);
    let job: StoredJob<Spec, Resolved, Extras>;
    try {
      job = JSON.parse(await readFile(join(jobDir, JOB_FILE), "utf8"));
      const problem = shapeProblem(job, entry.name, kind);
      if (problem) throw new Error(problem);
    } catch (e) {
      logger.warn("skipping a job whose job.json cannot be read", {
        kind,
        jobDir,
        error: e instanceof Error ? e.message : String(e),
      });
      continue;
    }
    try {
      await cutTornTail(join(jobDir, EVENTS_FILE));
      const events = await readEvents(jobDir);
      const lastEvent = events.reduce((m, e) => Math.max(m, e.sequence), 0);
      loaded.push({ job, lastSequence: Math.max(lastEvent, job.lastSequence) });
    } catch (e) {
      logger.warn("skipping a job whose events cannot be read", {
        kind,
        jobDir,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return loaded;
}

function shapeProblem(job: StoredJob<unknown, unknown, unknown>, dirName: string, kind: string): string | undefined {
  if (typeof job !== "object" || job === null) return "not a JSON object";
  if (job.format !== 1) return `unknown format ${String(job.format)}`;
  if (job.id !== dirName) return `id "${String(job.id)}" differs from its directory`;
  if (job.kind !== kind) return `kind "${String(job.kind)}" is not "${kind}"`;
  const status = job.status as Partial<JobStatusRecord> | undefined;
  if (typeof status !== "object" || status === null) return "no status";
  if (!JOB_STATES.includes(status.state as never)) return `unknown state "${String(status.state)}"`;
  for (const key of ["progress", "done", "total", "createdAtMs", "attempt"] as const)
    if (typeof status[key] !== "number") return `status.${key} is not a number`;
  if (!Array.isArray(job.claims)) return "claims is not a list";
  if (typeof job.labels !== "object" || job.labels === null) return "labels is not an object";
  if (typeof job.requestId !== "string") return "requestId is not a string";
  return undefined;
}

async function cutTornTail(path: string): Promise<void> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (text.length === 0 || text[text.length - 1] === 0x0a) return;
  await truncate(path, text.lastIndexOf(0x0a) + 1);
  const handle = await open(path, "r+");
  await handle.sync().finally(() => handle.close());
}
