import { randomBytes } from "node:crypto";
import { basename, dirname, join, resolve, sep } from "node:path";
import { type DurableFileSystem, nodeFileSystem, type WritableFile } from "./durable-file-system.js";

/** A fresh name beside `path` for a temporary file or folder that is invisible to readers. */
export function temporarySibling(path: string, tag = "partial"): string {
  return join(dirname(path), `.${tag}-${basename(path)}-${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** Flushes a directory's entries (new names, renames) to stable storage. */
export function fsyncDirectory(path: string, fs: DurableFileSystem = nodeFileSystem): Promise<void> {
  return fs.syncDirectory(path);
}

/** Options of the atomic writers. */
export interface AtomicWriteOptions {
  /** The file system to write through (default: node's); tests inject a recording one. */
  readonly fs?: DurableFileSystem;
}

/**
 * A file that appears at `path` whole or not at all. Everything written goes to a temporary
 * file with a unique name in the same directory; `commit` fsyncs it, renames it over `path` and
 * fsyncs the directory, so a reader, a crash or a power loss sees the old file or the new one,
 * never a mixture. Missing parent directories are created (and made durable at commit). Any
 * failure removes the temporary file; so does `abort`.
 */
export class AtomicFile {
  private state: "open" | "committed" | "aborted" = "open";

  private constructor(
    private readonly fs: DurableFileSystem,
    private readonly file: WritableFile,
    /** The destination, absolute. */
    readonly path: string,
    readonly tempPath: string,
    private readonly firstCreatedDir: string | undefined,
  ) {}

  static async create(path: string, options: AtomicWriteOptions = {}): Promise<AtomicFile> {
    const fs = options.fs ?? nodeFileSystem;
    // Absolute, so the directories mkdir reports compare with ours.
    const target = resolve(path);
    const firstCreatedDir = await fs.makeDirectories(dirname(target));
    const tempPath = temporarySibling(target);
    return new AtomicFile(fs, await fs.createExclusive(tempPath), target, tempPath, firstCreatedDir);
  }

  /** Appends `data` (strings as UTF-8). A failed write aborts the file. */
  async write(data: Uint8Array | string): Promise<void> {
    if (this.state !== "open")
      throw new Error(`${this.path}: write after ${this.state === "committed" ? "commit" : "abort"}`);
    try {
      await this.file.write(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Makes the written bytes durable, then visible at `path`. */
  async commit(): Promise<void> {
    if (this.state !== "open")
      throw new Error(`${this.path}: commit after ${this.state === "committed" ? "commit" : "abort"}`);
    try {
      await this.file.sync();
    } catch (e) {
      await this.abort();
      throw e;
    }
    this.state = "committed";
    try {
      await this.file.close();
      await this.fs.rename(this.tempPath, this.path);
    } catch (e) {
      await this.fs.remove(this.tempPath).catch(() => {});
      throw e;
    }
    const dir = dirname(this.path);
    await this.fs.syncDirectory(dir);
    // Directories created for this file are entries of their parents: make those durable too.
    const first = this.firstCreatedDir;
    for (let d = dir; first !== undefined && (d === first || d.startsWith(first + sep)); d = dirname(d)) {
      await this.fs.syncDirectory(dirname(d));
    }
  }

  /** Discards everything written; `path` is left as it was. Never throws. */
  async abort(): Promise<void> {
    if (this.state !== "open") return;
    this.state = "aborted";
    await this.file.close().catch(() => {});
    await this.fs.remove(this.tempPath).catch(() => {});
  }
}

/** Runs `body` against a new {@link AtomicFile} at `path` and commits it; aborts if anything throws. */
export async function writeAtomically<T>(
  path: string,
  body: (file: AtomicFile) => Promise<T>,
  options: AtomicWriteOptions = {},
): Promise<T> {
  const file = await AtomicFile.create(path, options);
  try {
    const result = await body(file);
    await file.commit();
    return result;
  } catch (e) {
    await file.abort();
    throw e;
  }
}

/** Replaces `path` with `data` atomically and durably (see {@link AtomicFile}). */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  return writeAtomically(path, (file) => file.write(data), options);
}
