import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { SHARD_EXIT_OK, SHARD_EXIT_PERMANENT, SHARD_EXIT_RETRYABLE, SHARD_EXIT_TERMINATED } from "@exits/cluster";
import type { Command } from "commander";

/** What one shard run asks of the export code (libs/serving). */
export interface ExportShardRequest {
  /** EXITS_DATA_DIR, absolute. */
  readonly dataDir: string;
  /** The export job, recorded under `<dataDir>/jobs/exporter/<jobId>/` by the exporter. */
  readonly jobId: string;
  /** The shard, 0 <= index < the job's sharding.shard_count. */
  readonly index: number;
  /** Aborted on SIGTERM/SIGINT (a cancel, a pod eviction): stop, keeping finished chunks. */
  readonly signal: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ExportShardOutcome {
  readonly annotations: number;
  readonly exported: number;
  readonly skipped: number;
  /** True when an earlier attempt had finished the shard (nothing was run). */
  readonly alreadyDone: boolean;
}

/**
 * Runs shard `index` of a recorded export: reads the job's resolved spec and its plan (written
 * by the exporter before it starts any shard), exports that shard's images into
 * `<jobDir>/shards/shard-NNNN/` atomically (temporary file + rename per chunk, `done.json` last),
 * resumes from finished chunks, and returns at once for a finished shard. Throws @exits/platform
 * DomainErrors for what retrying cannot fix.
 */
export type RunExportShard = (request: ExportShardRequest) => Promise<ExportShardOutcome>;

const JOB_ID = /^[0-9a-z][0-9a-z-]{0,62}$/;
/** Failures no retry can fix (the DomainError kinds); everything else is worth another attempt. */
const PERMANENT_KINDS = new Set(["invalid_argument", "not_found", "already_exists", "failed_precondition"]);

export interface ExportShardOptions {
  readonly job?: string;
  readonly index?: string;
  readonly dataDir?: string;
}

/** Where `exits export-shard` came out, and what it says on stderr. */
export interface ExportShardResult {
  readonly exitCode: number;
  readonly message: string;
}

/**
 * `exits export-shard --job <id> [--index <k>]`: the body of one Indexed Job pod (or one local
 * child process). The index defaults to JOB_COMPLETION_INDEX, which Kubernetes sets in every pod
 * of an Indexed Job. Exit codes (see @exits/cluster's shard-exit-codes): 0 done, 2 permanent
 * (the pod failure policy fails the index without retrying), 1 retryable, 143 stopped.
 */
export async function runExportShardCommand(
  options: ExportShardOptions,
  env: Readonly<Record<string, string | undefined>>,
  runExportShard: RunExportShard | undefined,
  signal: AbortSignal,
): Promise<ExportShardResult> {
  const permanent = (message: string) => ({
    exitCode: SHARD_EXIT_PERMANENT,
    message: `exits export-shard: ${message}`,
  });
  const jobId = options.job ?? "";
  if (!JOB_ID.test(jobId)) return permanent(`--job "${jobId}" is not an export job id`);
  const indexText = options.index ?? env["JOB_COMPLETION_INDEX"];
  if (indexText === undefined || indexText === "")
    return permanent("no --index and no JOB_COMPLETION_INDEX (set by Kubernetes in Indexed Job pods)");
  if (!/^\d+$/.test(indexText)) return permanent(`shard index "${indexText}" is not a non-negative integer`);
  const index = Number(indexText);
  const dataDirText = options.dataDir ?? env["EXITS_DATA_DIR"] ?? ".exits-data";
  const dataDir = isAbsolute(dataDirText) ? dataDirText : resolve(dataDirText);
  const jobFile = join(dataDir, "jobs", "exporter", jobId, "job.json");
  if (!existsSync(jobFile)) return permanent(`export job ${jobId} not found (no ${jobFile})`);
  let shardCount: number;
  try {
    const job = JSON.parse(readFileSync(jobFile, "utf8"));
    shardCount = job.resolvedSpec?.sharding?.shardCount ?? 1;
  } catch (e) {
    // Possibly a write in progress on a shared volume: worth a retry.
    return { exitCode: SHARD_EXIT_RETRYABLE, message: `exits export-shard: ${jobFile}: ${(e as Error).message}` };
  }
  if (index >= shardCount)
    return permanent(`shard index ${index} is out of range: job ${jobId} has ${shardCount} shards`);
  if (!runExportShard)
    return permanent("this build's @exits/serving has no runExportShard; the exporter cannot run shards here");
  try {
    const outcome = await runExportShard({ dataDir, jobId, index, signal });
    const what = outcome.alreadyDone
      ? "was already done"
      : `exported ${outcome.exported} of ${outcome.annotations} annotations (${outcome.skipped} skipped)`;
    return { exitCode: SHARD_EXIT_OK, message: `shard ${index} of export ${jobId} ${what}` };
  } catch (e) {
    if (signal.aborted)
      return { exitCode: SHARD_EXIT_TERMINATED, message: `shard ${index} of export ${jobId} stopped` };
    const kind = (e as { statusKind?: string }).statusKind;
    const message = `exits export-shard: shard ${index} of export ${jobId}: ${(e as Error).message ?? String(e)}`;
    return { exitCode: kind && PERMANENT_KINDS.has(kind) ? SHARD_EXIT_PERMANENT : SHARD_EXIT_RETRYABLE, message };
  }
}

/** libs/serving's shard entry point, loaded lazily: only this command needs the serving stack. */
async function loadRunExportShard(): Promise<RunExportShard | undefined> {
  const serving = (await import("@exits/serving")) as unknown as { runExportShard?: RunExportShard };
  return serving.runExportShard;
}

export function exportShardCommand(program: Command): void {
  program
    .command("export-shard")
    .description("export one shard of a recorded export job (the body of one Indexed Job pod)")
    .requiredOption("--job <id>", "the export job id (its spec is under <data dir>/jobs/exporter/<id>/)")
    .option("--index <k>", "the shard, 0-based (default: $JOB_COMPLETION_INDEX)")
    .option("--data-dir <dir>", "the data directory (default: $EXITS_DATA_DIR)")
    .action(async (options: ExportShardOptions) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      try {
        const result = await runExportShardCommand(options, process.env, await loadRunExportShard(), controller.signal);
        (result.exitCode === SHARD_EXIT_OK ? process.stdout : process.stderr).write(`${result.message}\n`);
        process.exitCode = result.exitCode;
      } finally {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
      }
    });
}
