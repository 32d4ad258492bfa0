import { open } from "node:fs/promises";
import { writeAtomically } from "@exits/base";
import { assertLittleEndian, type HostTensor } from "../tensor/host-tensor.js";
import { decodeTensorData, encodeTensorData, type StoreAs, storedDType } from "./safetensors-codec.js";
import { SafetensorsError } from "./safetensors-error.js";
import {
  decodeHeader,
  decodeHeaderLength,
  encodeHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
  safetensorsDTypeSize,
} from "./safetensors-header.js";

/** Tensors by name, in any iteration order (the file order is chosen by the writer). */
export type TensorMap = ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>;

/** Options of the safetensors writers. */
export interface WriteSafetensorsOptions {
  /** Free-form string metadata (`__metadata__`). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Narrow chosen tensors on disk, by name: float32 to F16/BF16, int64 to a narrower integer type. */
  readonly storeAs?: Readonly<Record<string, StoreAs>>;
}

function entriesOf(tensors: TensorMap): [string, HostTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, HostTensor>);
}

/**
 * File order as the reference writer chooses it: larger element types first, then by name, so
 * every tensor is aligned to its element size when the data buffer is 8-byte aligned.
 */
function plan(tensors: TensorMap, options: WriteSafetensorsOptions) {
  const items = entriesOf(tensors).map(([name, tensor]) => ({
    name,
    tensor,
    dtype: storedDType(tensor, options.storeAs?.[name]),
    shape: tensor.shape,
  }));
  items.sort(
    (a, b) =>
      safetensorsDTypeSize[b.dtype] - safetensorsDTypeSize[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const { prefix } = encodeHeader(items, options.metadata);
  return { prefix, items };
}

/** Serialises tensors to one in-memory buffer (small files; use {@link writeSafetensors} for large ones). */
export function encodeSafetensors(tensors: TensorMap, options: WriteSafetensorsOptions = {}): Uint8Array {
  assertLittleEndian();
  const { prefix, items } = plan(tensors, options);
  const chunks = items.map((i) => encodeTensorData(i.tensor, i.dtype, i.name));
  const out = new Uint8Array(prefix.length + chunks.reduce((s, c) => s + c.length, 0));
  out.set(prefix, 0);
  let at = prefix.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses an in-memory safetensors file. */
export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
} {
  assertLittleEndian();
  const n = decodeHeaderLength(bytes.subarray(0, 8), bytes.length);
  const header = decodeHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n);
  const tensors = new Map<string, HostTensor>();
  for (const e of header.entries) {
    tensors.set(
      e.name,
      decodeTensorData(e.dtype, e.shape, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end)),
    );
  }
  return { tensors, metadata: { ...header.metadata } };
}

/**
 * Writes a safetensors file tensor by tensor (memory stays at one tensor's size beyond the
 * caller's own), atomically and durably: the file appears whole once its bytes are on disk.
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  assertLittleEndian();
  const { prefix, items } = plan(tensors, options);
  await writeAtomically(path, async (file) => {
    await file.write(prefix);
    for (const i of items) await file.write(encodeTensorData(i.tensor, i.dtype, i.name));
  });
}

/**
 * A safetensors file opened for random access: the header is parsed at once, each tensor is
 * read from disk only when asked for, so a multi-GB checkpoint never has to fit in memory whole.
 */
export class SafetensorsFile {
  private constructor(
    private readonly file: import("node:fs/promises").FileHandle,
    readonly header: SafetensorsHeader,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    assertLittleEndian();
    const file = await open(path, "r");
    try {
      const { size } = await file.stat();
      const first8 = new Uint8Array(8);
      await readExactly(file, first8, 0);
      const n = decodeHeaderLength(first8, size);
      const json = new Uint8Array(n);
      await readExactly(file, json, 8);
      return new SafetensorsFile(file, decodeHeader(json, size - 8 - n), path);
    } catch (e) {
      await file.close();
      throw e instanceof SafetensorsError ? new SafetensorsError(`${path}: ${e.message}`) : e;
    }
  }

  get names(): string[] {
    return this.header.entries.map((e) => e.name);
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  entry(name: string): SafetensorsEntry {
    const e = this.header.entries.find((x) => x.name === name);
    if (!e) throw new SafetensorsError(`${this.path}: no tensor named "${name}"`);
    return e;
  }

  async read(name: string): Promise<HostTensor> {
    const e = this.entry(name);
    const bytes = new Uint8Array(e.end - e.begin);
    await readExactly(this.file, bytes, this.header.dataStart + e.begin);
    return decodeTensorData(e.dtype, e.shape, bytes);
  }

  async readAll(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const e of this.header.entries) out.set(e.name, await this.read(e.name));
    return out;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

async function readExactly(
  file: import("node:fs/promises").FileHandle,
  into: Uint8Array,
  position: number,
): Promise<void> {
  const chunk = 1 << 28;
  for (let at = 0; at < into.length; ) {
    const { bytesRead } = await file.read(into, at, Math.min(chunk, into.length - at), position + at);
    if (bytesRead === 0) throw new SafetensorsError(`unexpected end of file at byte ${position + at}`);
    at += bytesRead;
  }
}

/** Reads every tensor of a file (convenience for small files). */
export async function readSafetensors(
  path: string,
): Promise<{ tensors: Map<string, HostTensor>; metadata: Record<string, string> }> {
  const f = await SafetensorsFile.open(path);
  try {
    return { tensors: await f.readAll(), metadata: { ...f.metadata } };
  } finally {
    await f.close();
  }
}
