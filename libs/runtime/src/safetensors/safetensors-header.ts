// The safetensors header: an 8-byte little-endian length N, then N bytes of UTF-8 JSON
// {"__metadata__": {str: str}?, name: {dtype, shape, data_offsets: [begin, end]}}, padded with
// spaces so that the data buffer starts 8-byte aligned. Offsets are relative to the data buffer,
// which the tensors must cover exactly: no holes, no overlaps (the reference reader rejects both).
import { SafetensorsError } from "./safetensors-error.js";

/** Element types of the format. The runtime reads and writes the ones it has a host type for. */
export type SafetensorsDType =
  | "BOOL"
  | "U8"
  | "I8"
  | "I16"
  | "U16"
  | "F16"
  | "BF16"
  | "I32"
  | "U32"
  | "F32"
  | "F64"
  | "I64"
  | "U64";

export const safetensorsDTypeSize: Record<SafetensorsDType, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** One tensor's entry; `begin`/`end` are byte offsets into the data buffer. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** In data-offset order. */
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes before the data buffer: 8 + N. */
  readonly dataStart: number;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
export const maxHeaderBytes = 100_000_000;

export function entryByteLength(dtype: SafetensorsDType, shape: readonly number[]): number {
  let n = safetensorsDTypeSize[dtype];
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError(`safetensors: invalid dimension ${d}`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new SafetensorsError("safetensors: tensor too large");
  return n;
}

/**
 * Serialises a header. Entries are given in file order with their byte lengths; offsets are
 * assigned consecutively from 0. Returns the full prefix (length + JSON + padding).
 */
export function encodeHeader(
  entries: readonly { name: string; dtype: SafetensorsDType; shape: readonly number[] }[],
  metadata: Readonly<Record<string, string>> = {},
): { prefix: Uint8Array; entries: SafetensorsEntry[] } {
  // A null-prototype object: tensor names such as "__proto__" or "valueOf" are ordinary keys here.
  const json: Record<string, unknown> = Object.create(null);
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new SafetensorsError(`safetensors: metadata value of "${k}" must be a string`);
    }
    json.__metadata__ = metadata;
  }
  const placed: SafetensorsEntry[] = [];
  let offset = 0;
  for (const e of entries) {
    if (e.name === "__metadata__") throw new SafetensorsError('safetensors: "__metadata__" is not a tensor name');
    if (Object.hasOwn(json, e.name)) throw new SafetensorsError(`safetensors: duplicate tensor name "${e.name}"`);
    const end = offset + entryByteLength(e.dtype, e.shape);
    json[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [offset, end] };
    placed.push({ name: e.name, dtype: e.dtype, shape: [...e.shape], begin: offset, end });
    offset = end;
  }
  const body = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(body.length / 8) * 8;
  const prefix = new Uint8Array(8 + padded).fill(0x20, 8 + body.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded), true);
  prefix.set(body, 8);
  return { prefix, entries: placed };
}

/** Reads N from the first 8 bytes and checks it against the file size. */
export function decodeHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (first8.length < 8 || fileSize < 8)
    throw new SafetensorsError("safetensors: file shorter than the 8-byte header length");
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(maxHeaderBytes))
    throw new SafetensorsError(`safetensors: header length ${n} exceeds ${maxHeaderBytes}`);
  if (Number(n) + 8 > fileSize)
    throw new SafetensorsError(`safetensors: header length ${n} runs past the end of the file`);
  return Number(n);
}

/** Parses and validates the JSON header given the data buffer's size. */
export function decodeHeader(json: Uint8Array, dataSize: number): SafetensorsHeader {
  if (json[0] !== 0x7b) throw new SafetensorsError("safetensors: header must start with '{'");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SafetensorsError("safetensors: header must be a JSON object");
  }
  const metadataPairs: [string, string][] = [];
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new SafetensorsError("safetensors: __metadata__ must be an object of strings");
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(`safetensors: metadata "${k}" is not a string`);
        metadataPairs.push([k, v]);
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info?.dtype !== "string" || !Object.hasOwn(safetensorsDTypeSize, info.dtype)) {
      throw new SafetensorsError(`safetensors: tensor "${name}" has unknown dtype ${JSON.stringify(info?.dtype)}`);
    }
    if (!Array.isArray(info.shape) || !Array.isArray(info.data_offsets) || info.data_offsets.length !== 2) {
      throw new SafetensorsError(`safetensors: tensor "${name}" needs shape and data_offsets [begin, end]`);
    }
    const dtype = info.dtype as SafetensorsDType;
    const shape = info.shape as number[];
    const [begin, end] = info.data_offsets as number[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin! < 0 || end! < begin!) {
      throw new SafetensorsError(`safetensors: tensor "${name}" has invalid data_offsets`);
    }
    const want = entryByteLength(dtype, shape);
    if (end! - begin! !== want) {
      throw new SafetensorsError(
        `safetensors: tensor "${name}" spans ${end! - begin!} bytes, ${dtype}[${shape.join(", ")}] needs ${want}`,
      );
    }
    entries.push({ name, dtype, shape, begin: begin!, end: end! });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) {
      throw new SafetensorsError(
        `safetensors: tensor "${e.name}" starts at ${e.begin}, expected ${cursor} (holes and overlaps are invalid)`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataSize)
    throw new SafetensorsError(`safetensors: tensors cover ${cursor} bytes of a ${dataSize}-byte data buffer`);
  // fromEntries defines own properties, so even a "__proto__" key stays plain data.
  return { entries, metadata: Object.fromEntries(metadataPairs), dataStart: 8 + json.length };
}
