import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, type TestContext, test } from "node:test";
import { fuzzRuns } from "@exits/base";
import fc from "fast-check";
import { bool, elementCount, float32, float64, type HostTensor, int64 } from "../tensor/host-tensor.js";
import { SafetensorsError } from "./safetensors-error.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors } from "./safetensors-file.js";
import { safetensorsDTypeSize } from "./safetensors-header.js";

// Outside bytes must decode or fail with a SafetensorsError: never a crash, a hang, a
// RangeError from a typed array or a TypeError from a missing field.
// More cases: EXITS_FUZZ_RUNS=20000 node tools/run-tests.mjs libs/runtime/src/safetensors/safetensors.fuzz

const dir = mkdtempSync(join(tmpdir(), "exits-safetensors-fuzz-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const slowestAllowedMs = 2000;

/** Decodes `bytes`; returns whether it decoded, fails the property on any other error type. */
function decodesOrRefuses(bytes: Uint8Array): boolean {
  const started = performance.now();
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    for (const t of tensors.values()) assert.equal(t.data.length, elementCount(t.shape));
    for (const v of Object.values(metadata)) assert.equal(typeof v, "string");
    return true;
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    return false;
  } finally {
    assert.ok(performance.now() - started < slowestAllowedMs, "one decode took over 2 s");
  }
}

function withHeader(header: string, dataBytes: number, lengthDelta = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.length + i] = (i * 37) & 0xff;
  return out;
}

const dtypes = [...Object.keys(safetensorsDTypeSize), "F8", "toString", "__proto__", ""];
const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 2 ** 53, 1e300, 0.5, "3", null));
const dim = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: junk });
const entry = fc.record({
  dtype: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...dtypes) }, { weight: 1, arbitrary: junk }),
  shape: fc.oneof({ weight: 4, arbitrary: fc.array(dim, { maxLength: 3 }) }, { weight: 1, arbitrary: junk }),
  data_offsets: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 80 })) },
    { weight: 1, arbitrary: junk },
  ),
});
const headerObject = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__metadata__", "__proto__", "constructor")),
  fc.oneof(
    { weight: 5, arbitrary: entry },
    { weight: 1, arbitrary: fc.dictionary(fc.string(), junk) },
    { weight: 1, arbitrary: junk },
  ),
  { maxKeys: 5 },
);

const tensorArb: fc.Arbitrary<HostTensor> = fc
  .array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.oneof(
      fc.float32Array({ minLength: n, maxLength: n }).map((d) => float32(d, shape) as HostTensor),
      fc.float64Array({ minLength: n, maxLength: n }).map((d) => float64(d, shape) as HostTensor),
      fc.bigInt64Array({ minLength: n, maxLength: n }).map((d) => int64(d, shape) as HostTensor),
      fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((d) => bool(d, shape) as HostTensor),
    );
  });
const validFile = fc
  .dictionary(
    fc.string({ minLength: 1, maxLength: 4 }).filter((s) => s !== "__metadata__"),
    tensorArb,
    { maxKeys: 4 },
  )
  .map((tensors) => encodeSafetensors(tensors, { metadata: { k: "v" } }));

/** A header whose entries tile the data buffer exactly, then perhaps one field broken. */
const consistentHeader = fc
  .tuple(
    fc.uniqueArray(
      fc.record({
        name: fc.oneof(
          fc.string({ minLength: 1, maxLength: 4 }),
          fc.constantFrom("__proto__", "constructor", "toString"),
        ),
        dtype: fc.constantFrom(...Object.keys(safetensorsDTypeSize)),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      }),
      { selector: (e) => e.name, maxLength: 5 },
    ),
    fc.option(fc.tuple(fc.nat(), fc.constantFrom("dtype", "shape", "data_offsets", "begin", "end"), junk), { freq: 2 }),
    fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string(), junk)), { freq: 2 }),
  )
  .map(([entries, broken, metadata]) => {
    const header: Record<string, unknown> = Object.create(null);
    if (metadata) header["__metadata__"] = metadata;
    let at = 0;
    entries.forEach((e, i) => {
      const size =
        safetensorsDTypeSize[e.dtype as keyof typeof safetensorsDTypeSize] * e.shape.reduce((a, b) => a * b, 1);
      const fields: Record<string, unknown> = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + size] };
      if (broken && broken[0] % entries.length === i) {
        const [, field, value] = broken;
        if (field === "begin" || field === "end") {
          (fields["data_offsets"] as unknown[])[field === "begin" ? 0 : 1] = value;
        } else fields[field] = value;
      }
      header[e.name] = fields;
      at += size;
    });
    return { text: JSON.stringify(header), dataBytes: at };
  });

function report(t: TestContext, target: string, counts: { cases: number; decoded: number }): void {
  t.diagnostic(`${target}: ${counts.cases} cases, ${counts.decoded} decoded, the rest refused with SafetensorsError`);
}

describe("safetensors decoder fuzz", () => {
  test("arbitrary bytes", (t) => {
    const counts = { cases: 0, decoded: 0 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        counts.cases++;
        if (decodesOrRefuses(bytes)) counts.decoded++;
      }),
      { numRuns: fuzzRuns(500) },
    );
    report(t, "safetensors arbitrary bytes", counts);
  });

  test("headers that look almost right: junk dtypes, shapes, offsets, metadata, lengths", (t) => {
    const counts = { cases: 0, decoded: 0 };
    fc.assert(
      fc.property(
        fc.oneof({ weight: 3, arbitrary: headerObject }, { weight: 1, arbitrary: junk }),
        fc.integer({ min: 0, max: 96 }),
        fc.constantFrom(0, 0, 0, -1, 1, -8, 10_000, 2 ** 40),
        fc.boolean(),
        (header, dataBytes, lengthDelta, padded) => {
          counts.cases++;
          const text = JSON.stringify(header) ?? "null";
          if (
            decodesOrRefuses(
              withHeader(padded ? text.padEnd(Math.ceil(text.length / 8) * 8) : text, dataBytes, lengthDelta),
            )
          )
            counts.decoded++;
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
    report(t, "safetensors junk headers", counts);
  });

  test("headers that tile the data exactly, with one field broken or the data a little off", (t) => {
    const counts = { cases: 0, decoded: 0 };
    fc.assert(
      fc.property(consistentHeader, fc.constantFrom(0, 0, 0, 0, -1, 1, 7), ({ text, dataBytes }, off) => {
        counts.cases++;
        if (decodesOrRefuses(withHeader(text, Math.max(0, dataBytes + off)))) counts.decoded++;
      }),
      { numRuns: fuzzRuns(1000) },
    );
    report(t, "safetensors near-valid headers", counts);
    assert.ok(counts.decoded > counts.cases / 10, "most cases must not be refusals, or the decode paths go untested");
  });

  test("valid files with flipped bytes, truncated or extended", (t) => {
    const counts = { cases: 0, decoded: 0 };
    fc.assert(
      fc.property(
        validFile,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 4 }),
        fc.oneof(fc.constant(0), fc.integer({ min: -16, max: 16 })),
        (file, flips, resize) => {
          counts.cases++;
          const bytes = new Uint8Array(Math.max(0, file.length + resize));
          bytes.set(file.subarray(0, bytes.length));
          const dataStart = 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
          for (const [at, value, inData] of flips) {
            // Half the flips land in the tensor bytes, where a file stays valid and must decode.
            const span = inData ? bytes.length - dataStart : bytes.length;
            if (span > 0) bytes[(inData ? dataStart : 0) + (at % span)] = value;
          }
          if (decodesOrRefuses(bytes)) counts.decoded++;
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
    report(t, "safetensors mutated files", counts);
  });

  test("the file reader (header and each tensor read from disk) on mutated files", async (t) => {
    const counts = { cases: 0, decoded: 0 };
    const path = join(dir, "fuzz.safetensors");
    await fc.assert(
      fc.asyncProperty(
        validFile,
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
        fc.oneof(fc.constant(0), fc.integer({ min: -12, max: 4 })),
        async (file, flip, resize) => {
          counts.cases++;
          const bytes = new Uint8Array(Math.max(0, file.length + resize));
          bytes.set(file.subarray(0, bytes.length));
          if (flip && bytes.length) bytes[flip[0] % bytes.length] = flip[1];
          writeFileSync(path, bytes);
          try {
            await readSafetensors(path);
            counts.decoded++;
          } catch (e) {
            if (!(e instanceof SafetensorsError)) throw e;
          }
        },
      ),
      { numRuns: Math.ceil(fuzzRuns(1000) / 10) },
    );
    report(t, "safetensors file reader", counts);
  });
});
