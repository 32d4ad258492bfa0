import { mkdir, open, rename, rm } from "node:fs/promises";

/** A file opened for writing by {@link DurableFileSystem.createExclusive}. */
export interface WritableFile {
  /** Writes all of `data` at the end of what was written so far. */
  write(data: Uint8Array): Promise<void>;
  /** Flushes the file's data and metadata to stable storage (fsync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls an atomic write is made of. Injectable so that a test can record their
 * order (data sync before rename, directory sync after) or fail one of them.
 */
export interface DurableFileSystem {
  /** Creates a new file; fails if `path` exists (so two writers never share a temporary file). */
  createExclusive(path: string): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing one is not an error. */
  remove(path: string): Promise<void>;
  /** Flushes a directory's entries (new names, renames) to stable storage. */
  syncDirectory(path: string): Promise<void>;
  /** `mkdir -p`; returns the first directory it had to create, undefined when all existed. */
  makeDirectories(path: string): Promise<string | undefined>;
}

// One write call is limited to 2 GiB; multi-GB tensors go through in slices.
const maxWrite = 1 << 28;

export const nodeFileSystem: DurableFileSystem = {
  async createExclusive(path) {
    const handle = await open(path, "wx");
    return {
      async write(data) {
        for (let at = 0; at < data.length; ) {
          const { bytesWritten } = await handle.write(data, at, Math.min(maxWrite, data.length - at));
          at += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async syncDirectory(path) {
    const dir = await open(path, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },
  makeDirectories: (path) => mkdir(path, { recursive: true }),
};
