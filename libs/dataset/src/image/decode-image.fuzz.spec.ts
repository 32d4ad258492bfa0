import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { fuzzRuns, onlyErrorsOfAsync, runFuzz } from "../fuzz-runs.testing.js";
import { decodeImage, ImageDecodeError } from "./decode-image.js";
import { encodeJpeg, encodePng } from "./encode-image.js";
import { createRgbImage, type RgbImage } from "./rgb-image.js";

// Image bytes from outside (uploads, dataset files) must decode to a well-formed RgbImage or
// throw ImageDecodeError: never crash, hang, or hand back pixels that do not match the size.

function sample(width: number, height: number): RgbImage {
  const image = createRgbImage(width, height);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37) % 256;
  return image;
}

/** Rewrites the width and height of a PNG's IHDR chunk, with a valid CRC so decoders believe it. */
function withIhdrSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = Buffer.from(png);
  // Signature (8), chunk length (4), "IHDR" (4), then width and height.
  out.writeUInt32BE(width >>> 0, 16);
  out.writeUInt32BE(height >>> 0, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "ihdr"; width: number; height: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  },
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant("ihdr" as const),
    width: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1, 1 << 16, 1 << 24)),
    height: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 - 1, 1 << 16, 1 << 24)),
  }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[], png: boolean): Uint8Array {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (m.kind === "ihdr") {
      if (png && out.length >= 33) out = Buffer.from(withIhdrSize(out, m.width, m.height));
    } else if (out.length === 0) continue;
    else if (m.kind === "flip") out[m.at % out.length] = m.value;
    else if (m.kind === "truncate") out = out.subarray(0, m.at % out.length);
    else out = Buffer.concat([out.subarray(0, m.at % out.length), m.bytes, out.subarray(m.at % out.length)]);
  }
  return out;
}

async function checkDecode(bytes: Uint8Array): Promise<void> {
  await onlyErrorsOfAsync([ImageDecodeError], async () => {
    const image = await decodeImage(bytes, "fuzz");
    assert.ok(Number.isInteger(image.width) && image.width > 0);
    assert.ok(Number.isInteger(image.height) && image.height > 0);
    assert.equal(image.data.length, image.width * image.height * 3);
  });
}

describe("image decode fuzz", () => {
  test("random bytes: an image or ImageDecodeError", async (t) => {
    await runFuzz(
      t,
      "decodeImage random bytes",
      fuzzRuns(400),
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // Real signatures followed by junk reach the format decoders, not just the sniffing.
        fc
          .tuple(
            fc.constantFrom(
              [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
              [0xff, 0xd8, 0xff],
              [0x52, 0x49, 0x46, 0x46],
              [0x49, 0x49, 0x2a, 0x00],
            ),
            fc.uint8Array({ maxLength: 96 }),
          )
          .map(([head, tail]) => Uint8Array.from([...head, ...tail])),
      ),
      checkDecode,
    );
  });

  test("mutated valid PNG and JPEG bytes: an image or ImageDecodeError", async (t) => {
    const png = await encodePng(sample(9, 7));
    const jpeg = await encodeJpeg(sample(12, 10));
    // The unmutated files decode, so the property is not vacuous.
    await checkDecode(png);
    assert.equal((await decodeImage(png)).width, 9);
    await runFuzz(
      t,
      "decodeImage mutated PNG/JPEG",
      fuzzRuns(600),
      fc.tuple(fc.boolean(), fc.array(mutationArb, { minLength: 1, maxLength: 4 })),
      ([isPng, mutations]) => checkDecode(mutate(isPng ? png : jpeg, mutations, isPng)),
    );
  });

  test("a PNG whose header claims 2^31 × 2^31 pixels is refused, not allocated", async () => {
    const png = await encodePng(sample(9, 7));
    await assert.rejects(decodeImage(withIhdrSize(png, 2 ** 31 - 1, 2 ** 31 - 1)), ImageDecodeError);
  });
});
