import {
  type FieldDescriptorProto,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import type { DescriptorIndex, IndexedMessage } from "../reflection/descriptor-index.js";

/** Bytes that are not a valid encoding of the expected message; `field` is the dotted path at fault. */
export class WireFormatError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "WireFormatError";
  }
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** protobufjs would recurse this deep too; beyond it a request is an attack, not data. */
const MAX_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function wireTypeOf(type: Type): number {
  switch (type) {
    case Type.DOUBLE:
    case Type.FIXED64:
    case Type.SFIXED64:
      return I64;
    case Type.FLOAT:
    case Type.FIXED32:
    case Type.SFIXED32:
      return I32;
    case Type.STRING:
    case Type.BYTES:
    case Type.MESSAGE:
      return LEN;
    case Type.GROUP:
      return 3;
    default:
      return VARINT;
  }
}

/** A cursor over one length-delimited region; every read is bounds-checked against `end`. */
class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number; above 2^53 precision is lost, which only matters for lengths (rejected anyway). */
  varint(path: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError(path, "truncated varint");
      const byte = this.bytes[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new WireFormatError(path, "varint longer than 10 bytes");
  }

  skip(count: number, path: string, what: string): void {
    if (count > this.end - this.pos) {
      throw new WireFormatError(path, `${what} of ${count} bytes, but only ${this.end - this.pos} remain`);
    }
    this.pos += count;
  }
}

/**
 * Checks that `bytes` is a well-formed encoding of `message`, strictly: every tag has a field
 * number and a wire type that exists (0, 1, 2 or 5: proto3 has no groups), every length fits in
 * what remains, a known field uses its declared wire type (or packed for repeated scalars),
 * strings are valid UTF-8 and nested messages (map entries included) pass the same check.
 * protobufjs, which grpc-js's loader decodes with, skips or truncates several of these, so
 * without this a malformed payload reaches a handler as a plausible request.
 */
export function checkWireFormat(bytes: Uint8Array, message: IndexedMessage, index: DescriptorIndex): void {
  walk(new Cursor(bytes, 0, bytes.length), message, index, "", 0);
}

function walk(cursor: Cursor, message: IndexedMessage, index: DescriptorIndex, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError(path || "(request)", `nesting deeper than ${MAX_DEPTH}`);
  const seen = new Map<number, number>();
  while (cursor.pos < cursor.end) {
    const tag = cursor.varint(path || "(request)");
    if (tag > 0xffffffff) throw new WireFormatError(path || "(request)", `tag ${tag} exceeds 32 bits`);
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    const field = message.fieldsByNumber.get(number);
    const occurrence = seen.get(number) ?? 0;
    seen.set(number, occurrence + 1);
    const name = field ? field.name : `#${number}`;
    const repeated = field?.label === Label.REPEATED;
    const here = `${path ? `${path}.` : ""}${name}${repeated ? `[${occurrence}]` : ""}`;
    if (number === 0) throw new WireFormatError(here, "field number 0 is not allowed");
    if (wire !== VARINT && wire !== I64 && wire !== LEN && wire !== I32) {
      throw new WireFormatError(here, `invalid wire type ${wire}`);
    }
    if (field) checkKnownField(cursor, field, wire, repeated, index, here, depth);
    else skipValue(cursor, wire, here);
  }
}

function checkKnownField(
  cursor: Cursor,
  field: FieldDescriptorProto,
  wire: number,
  repeated: boolean,
  index: DescriptorIndex,
  here: string,
  depth: number,
): void {
  const expected = wireTypeOf(field.type);
  if (expected === 3) throw new WireFormatError(here, "group fields are not supported");
  const packed = repeated && expected !== LEN && wire === LEN;
  if (wire !== expected && !packed) {
    throw new WireFormatError(
      here,
      `wire type ${wire}, but a ${Type[field.type]?.toLowerCase()} field uses ${expected}`,
    );
  }
  if (packed) {
    const length = lengthPrefix(cursor, here);
    const inner = new Cursor(cursor.bytes, cursor.pos, cursor.pos + length);
    while (inner.pos < inner.end) skipValue(inner, expected, here);
    cursor.pos = inner.end;
    return;
  }
  if (wire !== LEN) {
    skipValue(cursor, wire, here);
    return;
  }
  const length = lengthPrefix(cursor, here);
  const start = cursor.pos;
  cursor.pos += length;
  if (field.type === Type.STRING) {
    try {
      utf8.decode(cursor.bytes.subarray(start, start + length));
    } catch {
      throw new WireFormatError(here, "string is not valid UTF-8");
    }
  } else if (field.type === Type.MESSAGE) {
    const nested = index.message(field.typeName);
    if (!nested) throw new WireFormatError(here, `no descriptor for ${field.typeName}`);
    walk(new Cursor(cursor.bytes, start, start + length), nested, index, here, depth + 1);
  }
}

function lengthPrefix(cursor: Cursor, here: string): number {
  const length = cursor.varint(here);
  if (length > cursor.end - cursor.pos) {
    throw new WireFormatError(here, `length prefix claims ${length} bytes, but only ${cursor.end - cursor.pos} remain`);
  }
  return length;
}

function skipValue(cursor: Cursor, wire: number, here: string): void {
  if (wire === VARINT) cursor.varint(here);
  else if (wire === I64) cursor.skip(8, here, "fixed64");
  else if (wire === I32) cursor.skip(4, here, "fixed32");
  else cursor.pos += lengthPrefix(cursor, here);
}
