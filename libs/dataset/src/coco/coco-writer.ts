import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { CocoAnnotation, CocoDataset } from "./coco-types.js";

/**
 * Writes a COCO instance JSON incrementally: the header (info, licenses, images, categories,
 * other keys) first, then annotations one by one, buffered into large writes. The file appears
 * atomically: everything goes to a temporary file in the same directory that `close` flushes,
 * syncs and renames over `path`; `abort` (or a crash) leaves `path` untouched.
 */
export class CocoWriter {
  private buffer: string[] = [];
  private buffered = 0;
  private count = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly tempPath: string,
    readonly path: string,
  ) {}

  /** Opens `path` (must end in `.json`) for writing and writes the header. */
  static async open(path: string, dataset: CocoDataset, options: { flushBytes?: number } = {}): Promise<CocoWriter> {
    if (!path.endsWith(".json")) throw new Error(`${path}: a COCO file name must end in .json`);
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const writer = new CocoWriter(await open(tempPath, "w"), tempPath, path);
    writer.flushBytes = options.flushBytes ?? 1 << 20;
    const head: string[] = [];
    if (dataset.info !== undefined) head.push(`"info":${JSON.stringify(dataset.info)}`);
    if (dataset.licenses !== undefined) head.push(`"licenses":${JSON.stringify(dataset.licenses)}`);
    for (const [key, value] of Object.entries(dataset.extra ?? {}))
      head.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    head.push(`"categories":${JSON.stringify(dataset.categories)}`);
    writer.push(`{${head.join(",\n")},\n"images":[`);
    for (let i = 0; i < dataset.images.length; i++) {
      writer.push(`${i ? ",\n" : "\n"}${JSON.stringify(dataset.images[i])}`);
    }
    writer.push(`\n],\n"annotations":[`);
    return writer;
  }

  private flushBytes = 1 << 20;

  /** Number of annotations written so far. */
  get written(): number {
    return this.count;
  }

  /** Appends one annotation (awaits only when the buffer is flushed to disk). */
  async write(annotation: CocoAnnotation): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: write after close`);
    this.push(`${this.count++ ? ",\n" : "\n"}${JSON.stringify(annotation)}`);
    if (this.buffered >= this.flushBytes) await this.flush();
  }

  /** Finishes the document, syncs it to disk and renames it into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.push("\n]}\n");
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    this.closed = true;
    await rename(this.tempPath, this.path);
  }

  /** Discards everything written; `path` is left as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => {});
    await rm(this.tempPath, { force: true });
  }

  private push(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.buffered = 0;
    await this.handle.write(text);
  }
}

/** Writes a whole COCO file from a header and an (async) iterable of annotations, atomically. */
export async function writeCocoFile(
  path: string,
  dataset: CocoDataset,
  annotations: Iterable<CocoAnnotation> | AsyncIterable<CocoAnnotation>,
): Promise<number> {
  const writer = await CocoWriter.open(path, dataset);
  try {
    for await (const a of annotations) await writer.write(a);
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return writer.written;
}
