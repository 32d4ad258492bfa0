import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Flushes a directory's entries (new names, renames) to stable storage. */
export async function fsyncDirectory(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A fresh name beside `path` for a temporary file or folder that is invisible to readers. */
export function temporarySibling(path: string, tag = "partial"): string {
  return join(dirname(path), `.${tag}-${basename(path)}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * Replaces `path` with `data` atomically: a reader sees the old file or the new one, never a
 * mixture, even if the process dies or the machine loses power midway (temp file, fsync,
 * rename, fsync of the directory).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = temporarySibling(path);
  const file = await open(tmp, "w");
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (e) {
    await file.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDirectory(dirname(path));
}
