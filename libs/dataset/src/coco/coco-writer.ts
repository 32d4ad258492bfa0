import { AtomicFile } from "@exits/base";
import type { CocoAnnotation, CocoDataset } from "./coco-types.js";

/**
 * Writes a COCO instance JSON incrementally: the header (info, licenses, images, categories,
 * other keys) first, then annotations one by one, buffered into large writes. The file appears
 * atomically and durably (an {@link AtomicFile}): `close` flushes, fsyncs, renames over `path` and
 * fsyncs the directory; `abort`, a failed write or a crash leaves `path` untouched.
 */
export class CocoWriter {
  private buffer: string[] = [];
  private buffered = 0;
  private count = 0;
  private closed = false;

  private constructor(
    private readonly file: AtomicFile,
    readonly path: string,
  ) {}

  /** Opens `path` (must end in `.json`) for writing and writes the header. */
  static async open(path: string, dataset: CocoDataset, options: { flushBytes?: number } = {}): Promise<CocoWriter> {
    if (!path.endsWith(".json")) throw new Error(`${path}: a COCO file name must end in .json`);
    // The header is serialised before the file exists, so a value JSON refuses leaves nothing behind.
    const head: string[] = [];
    if (dataset.info !== undefined) head.push(`"info":${JSON.stringify(dataset.info)}`);
    if (dataset.licenses !== undefined) head.push(`"licenses":${JSON.stringify(dataset.licenses)}`);
    for (const [key, value] of Object.entries(dataset.extra ?? {}))
      head.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    head.push(`"categories":${JSON.stringify(dataset.categories)}`);
    const images = dataset.images.map((image, i) => `${i ? ",\n" : "\n"}${JSON.stringify(image)}`);
    const writer = new CocoWriter(await AtomicFile.create(path), path);
    writer.flushBytes = options.flushBytes ?? 1 << 20;
    writer.push(`{${head.join(",\n")},\n"images":[`);
    for (const image of images) writer.push(image);
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
    this.closed = true;
    await this.file.commit();
  }

  /** Discards everything written; `path` is left as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.abort();
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
    await this.file.write(text);
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
