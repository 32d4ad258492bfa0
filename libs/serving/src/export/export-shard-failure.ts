import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { DomainError, STATUS_KINDS, type StatusKind } from "@exits/platform";
import { shardDir } from "./export-shard.js";

const FAILURE_FILE = "failure.json";

/** Why a shard run elsewhere (a child process, a pod) failed for good, as the exporter rethrows it. */
interface ShardFailureRecord {
  readonly statusKind: StatusKind;
  readonly message: string;
  readonly field: string;
}

/**
 * Records a DomainError of a shard process in `<shard dir>/failure.json`, so the exporter fails
 * the job with the same status, message and field as if the shard had run in its own process
 * (a pod's exit code alone says only "permanent").
 */
export async function writeShardFailure(jobDir: string, index: number, error: DomainError): Promise<void> {
  const field = (error as { field?: unknown }).field;
  const record: ShardFailureRecord = {
    statusKind: error.statusKind,
    message: error.message,
    field: typeof field === "string" ? field : "",
  };
  await mkdir(shardDir(jobDir, index), { recursive: true });
  await writeFileAtomic(join(shardDir(jobDir, index), FAILURE_FILE), `${JSON.stringify(record)}\n`);
}

export async function clearShardFailure(jobDir: string, index: number): Promise<void> {
  await rm(join(shardDir(jobDir, index), FAILURE_FILE), { force: true });
}

/** The recorded failure as a DomainError (with its `field`), or undefined when none was recorded. */
export async function readShardFailure(jobDir: string, index: number): Promise<DomainError | undefined> {
  const file = join(shardDir(jobDir, index), FAILURE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(await readFile(file, "utf8")) as ShardFailureRecord;
    if (!(STATUS_KINDS as readonly string[]).includes(r.statusKind)) return undefined;
    return Object.assign(new DomainError(r.statusKind, r.message), { field: r.field });
  } catch {
    return undefined;
  }
}
