import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bool, float32, float64, type HostTensor, int64 } from "../tensor/host-tensor.js";
import type { StoreAs } from "./safetensors-codec.js";
import { SafetensorsError } from "./safetensors-error.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, SafetensorsFile } from "./safetensors-file.js";
import type { SafetensorsDType } from "./safetensors-header.js";

const dir = mkdtempSync(join(tmpdir(), "exits-safetensors-dtypes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Each integer type's extremes and values whose bytes all differ, so a read shifted by one
// byte, or one element, or into a neighbouring tensor, gives other numbers.
const ints: Record<string, bigint[]> = {
  U8: [0n, 255n, 0x12n, 0xa5n, 1n],
  I8: [-128n, 127n, -1n, 0x34n, 0n],
  U16: [0n, 65535n, 0x1234n, 0xfedcn, 0x8001n, 0x00ffn, 0xff00n],
  I16: [-32768n, 32767n, -2n, 0x1357n, 0n],
  U32: [0n, 4294967295n, 0x12345678n, 0x9abcdef0n, 1n],
  I32: [-2147483648n, 2147483647n, -3n, 0x0badf00dn],
  I64: [-(2n ** 63n), 2n ** 63n - 1n, -4n, 0x0123456789abcdefn],
};
// Exactly representable in F16 and BF16 alike, so all three float types must give them back.
const floats = [0, -0, 1.5, -2.25, 256, 2 ** -14, Number.NEGATIVE_INFINITY, Number.NaN];

/** Every dtype the reader claims, one tensor each, in one file with every element width. */
function everyDtype(): { tensors: Record<string, HostTensor>; storeAs: Record<string, StoreAs> } {
  const tensors: Record<string, HostTensor> = {};
  const storeAs: Record<string, StoreAs> = {};
  for (const [dtype, values] of Object.entries(ints)) {
    tensors[`int.${dtype}`] = int64(values, [values.length]);
    storeAs[`int.${dtype}`] = dtype as StoreAs;
  }
  for (const dtype of ["F32", "F16", "BF16"] as const) {
    tensors[`float.${dtype}`] = float32(floats, [2, 4]);
    storeAs[`float.${dtype}`] = dtype;
  }
  tensors["float.F64"] = float64([Math.PI, -1e300, 5e-324], [3]);
  tensors["bool"] = bool([1, 0, 0, 1, 1], [5]);
  return { tensors, storeAs };
}

function assertSameValues(got: HostTensor | undefined, want: HostTensor, what: string): void {
  assert.ok(got, `${what} missing`);
  assert.equal(got.dtype, want.dtype, what);
  assert.deepEqual(got.shape, want.shape, what);
  assert.deepEqual([...got.data], [...want.data], what);
}

describe("safetensors: every dtype the reader claims", () => {
  test("U8, I8, U16, I16, U32, I32, I64, F16, BF16, F32, F64, BOOL round-trip in one mixed-width file", async () => {
    const { tensors, storeAs } = everyDtype();
    const bytes = encodeSafetensors(tensors, { storeAs });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    for (const [name, dtype] of Object.entries(storeAs)) assert.equal(header[name].dtype, dtype, name);
    const path = join(dir, "every.safetensors");
    writeFileSync(path, bytes);
    const inMemory = decodeSafetensors(bytes).tensors;
    const file = await SafetensorsFile.open(path);
    try {
      for (const [name, want] of Object.entries(tensors)) {
        assertSameValues(inMemory.get(name), want, `${name} (memory)`);
        // One tensor read on its own, from its own offset in the file.
        assertSameValues(await file.read(name), want, `${name} (file)`);
      }
    } finally {
      await file.close();
    }
  });

  test("a hand-made file: each dtype at an odd offset, packed by DataView as the format defines", async () => {
    // Laid out by hand (not by the writer): U8 first, so every wider tensor after it is unaligned.
    const layout: [string, SafetensorsDType, number[]][] = [
      ["a", "U8", [7, 200, 1]],
      ["b", "U16", [0x1234, 0xfedc, 0x8001]],
      ["c", "I8", [-5, 100]],
      ["d", "I16", [-30000, 0x0102]],
      ["e", "U32", [0xdeadbeef, 3]],
      ["f", "I32", [-123456789, 0x01020304]],
      ["g", "BOOL", [1, 0, 2]],
    ];
    const width = { U8: 1, I8: 1, BOOL: 1, U16: 2, I16: 2, U32: 4, I32: 4 } as Record<string, number>;
    const size = layout.reduce((s, [, d, v]) => s + width[d]! * v.length, 0);
    const data = new DataView(new ArrayBuffer(size));
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const [name, dtype, values] of layout) {
      const begin = at;
      for (const v of values) {
        if (dtype === "U8" || dtype === "BOOL") data.setUint8(at, v);
        else if (dtype === "I8") data.setInt8(at, v);
        else if (dtype === "U16") data.setUint16(at, v, true);
        else if (dtype === "I16") data.setInt16(at, v, true);
        else if (dtype === "U32") data.setUint32(at, v, true);
        else data.setInt32(at, v, true);
        at += width[dtype]!;
      }
      header[name] = { dtype, shape: [values.length], data_offsets: [begin, at] };
    }
    const json = new TextEncoder().encode(JSON.stringify(header));
    const bytes = new Uint8Array(8 + json.length + size);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    bytes.set(new Uint8Array(data.buffer), 8 + json.length);
    const path = join(dir, "hand.safetensors");
    writeFileSync(path, bytes);
    const fromFile = (await readSafetensors(path)).tensors;
    const fromMemory = decodeSafetensors(bytes).tensors;
    for (const [name, dtype, values] of layout) {
      const want = dtype === "BOOL" ? bool(values, [values.length]) : int64(values, [values.length]);
      assertSameValues(fromFile.get(name), want, `${name} ${dtype} (file)`);
      assertSameValues(fromMemory.get(name), want, `${name} ${dtype} (memory)`);
    }
  });

  test("a value that does not fit the narrower type is refused, naming tensor and element", () => {
    const cases: [StoreAs, bigint][] = [
      ["U8", 256n],
      ["U8", -1n],
      ["I8", -129n],
      ["U16", 65536n],
      ["I16", 32768n],
      ["U32", -1n],
      ["I32", 2n ** 31n],
    ];
    for (const [dtype, v] of cases) {
      assert.throws(
        () => encodeSafetensors({ t: int64([0n, v], [2]) }, { storeAs: { t: dtype } }),
        (e: unknown) => e instanceof SafetensorsError && e.message.includes(`"t"[1] = ${v} does not fit ${dtype}`),
        `${dtype} ${v}`,
      );
    }
    assert.throws(
      () => encodeSafetensors({ t: float32([1], [1]) }, { storeAs: { t: "U8" } }),
      /float32 tensors can be stored as F32, F16, BF16, not U8/,
    );
  });
});
