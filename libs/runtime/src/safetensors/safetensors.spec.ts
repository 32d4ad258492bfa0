import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { floatToHalf } from "../tensor/half-float.js";
import { bool, float32, float64, type HostTensor, int64 } from "../tensor/host-tensor.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  SafetensorsFile,
  writeSafetensors,
} from "./safetensors-file.js";

const dir = mkdtempSync(join(tmpdir(), "exits-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a file by hand from the format's definition, independent of the writer under test. */
function handMade(header: string, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors byte layout", () => {
  test("header length, JSON, space padding and little-endian data are exactly as specified", () => {
    const bytes = encodeSafetensors({ a: float32([1, 2], [2]) }, { metadata: { format: "pt" } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0, "data buffer starts 8-byte aligned");
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    assert.equal(text, json + " ".repeat(n - json.length));
    assert.deepEqual([...bytes.subarray(8 + n)], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40]);
    assert.equal(bytes.length, 8 + n + 8);
  });

  test("file order: wider element types first, then by name; every tensor aligned to its width", () => {
    const bytes = encodeSafetensors({
      z: bool([1, 0, 1], [3]),
      b: float32([1], [1]),
      a: float32([2, 3, 4], [3]),
      d: float64([5], [1]),
      c: int64([7n], [1]),
    });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const order = Object.entries(header as Record<string, { data_offsets: number[]; dtype: string }>)
      .sort((x, y) => x[1].data_offsets[0]! - y[1].data_offsets[0]!)
      .map(([k, v]) => [k, v.data_offsets]);
    assert.deepEqual(order, [
      ["c", [0, 8]],
      ["d", [8, 16]],
      ["a", [16, 28]],
      ["b", [28, 32]],
      ["z", [32, 35]],
    ]);
  });

  test("reads a hand-made file: unpadded header, unaligned offsets, float, bool, I32 and I64 dtypes", () => {
    const f16 = [floatToHalf(1.5), floatToHalf(-0.25)];
    const data = [
      // h: F16 [2] at 0..4
      f16[0]! & 0xff,
      f16[0]! >> 8,
      f16[1]! & 0xff,
      f16[1]! >> 8,
      // g: BF16 [1] at 4..6: 0x4049 = 3.140625
      0x49,
      0x40,
      // e: BOOL [2] at 6..8
      1,
      0,
      // f: F32 [1] at 8..12: -1
      0x00,
      0x00,
      0x80,
      0xbf,
      // q: I64 [1] at 12..20 (unaligned): -2
      0xfe,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      // r: F64 [1] at 20..28 (unaligned): 0.5
      0,
      0,
      0,
      0,
      0,
      0,
      0xe0,
      0x3f,
      // s: I32 [1] at 28..32: 7, widened to int64
      7,
      0,
      0,
      0,
    ];
    const header = `{ "r": {"dtype": "F64", "shape": [1], "data_offsets": [20, 28]},
      "h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "g": {"dtype": "BF16", "shape": [], "data_offsets": [4, 6]},
      "e": {"dtype": "BOOL", "shape": [2, 1], "data_offsets": [6, 8]}, "f": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
      "q": {"dtype": "I64", "shape": [1], "data_offsets": [12, 20]}, "s": {"dtype": "I32", "shape": [1], "data_offsets": [28, 32]},
      "__metadata__": {"k": "v"} }`;
    const { tensors, metadata } = decodeSafetensors(handMade(header, data));
    assert.deepEqual(metadata, { k: "v" });
    const h = tensors.get("h")!;
    assert.equal(h.dtype, "float32");
    assert.deepEqual([...h.data], [1.5, -0.25]);
    assert.deepEqual(tensors.get("g"), { dtype: "float32", shape: [], data: new Float32Array([3.140625]) });
    assert.deepEqual(tensors.get("e"), { dtype: "bool", shape: [2, 1], data: new Uint8Array([1, 0]) });
    assert.deepEqual([...tensors.get("f")!.data], [-1]);
    assert.deepEqual([...tensors.get("q")!.data], [-2n]);
    assert.deepEqual([...tensors.get("r")!.data], [0.5]);
    assert.deepEqual(tensors.get("s"), { dtype: "int64", shape: [1], data: new BigInt64Array([7n]) });
  });

  const bad: [string, string, number[], RegExp][] = [
    ["a hole", '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [0, 0, 0, 0, 0, 0, 0, 0], /starts at 4/],
    [
      "an overlap",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}',
      [0, 0, 0, 0, 0, 0],
      /starts at 2/,
    ],
    ["a size mismatch", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0], /needs 8/],
    [
      "trailing bytes",
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      [0, 0, 0, 0, 9],
      /cover 4 bytes of a 5/,
    ],
    ["an unknown dtype", '{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}', [0], /unknown dtype/],
    ["a non-string metadata value", '{"__metadata__":{"n":1}}', [], /not a string/],
    [
      "a header not starting with {",
      ' {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      [0, 0, 0, 0],
      /start with/,
    ],
  ];
  for (const [what, header, data, message] of bad) {
    test(`rejects ${what}`, () => assert.throws(() => decodeSafetensors(handMade(header, data)), message));
  }

  test("rejects a header length that runs past the end of the file", () => {
    const bytes = handMade("{}", []);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    assert.throws(() => decodeSafetensors(bytes), /past the end/);
  });
});

const tensorArb: fc.Arbitrary<HostTensor> = fc
  .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.oneof(
      fc.float32Array({ minLength: n, maxLength: n }).map((d) => float32(d, shape) as HostTensor),
      fc.float64Array({ minLength: n, maxLength: n }).map((d) => float64(d, shape) as HostTensor),
      fc.bigInt64Array({ minLength: n, maxLength: n }).map((d) => int64(d, shape) as HostTensor),
      fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((d) => bool(d, shape) as HostTensor),
    );
  });

describe("safetensors round trips", () => {
  test("any tensors and metadata survive encode/decode bit-exactly", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((s) => s !== "__metadata__"),
          tensorArb,
          { maxKeys: 5 },
        ),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
        (tensors, metadata) => {
          const back = decodeSafetensors(encodeSafetensors(tensors, { metadata }));
          assert.deepEqual(back.metadata, Object.keys(metadata).length ? { ...metadata } : {});
          assert.deepEqual(new Set(back.tensors.keys()), new Set(Object.keys(tensors)));
          for (const [name, t] of Object.entries(tensors)) {
            const u = back.tensors.get(name)!;
            assert.equal(u.dtype, t.dtype);
            assert.deepEqual(u.shape, t.shape);
            // Compare bytes so that NaN payloads and -0 count too.
            assert.deepEqual(
              Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength),
              Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test("F16 and BF16 storage narrows float32 to the nearest representable value", () => {
    const values = [0.1, -1.5, 1000.25, 3e-6];
    const bytes = encodeSafetensors(
      { h: float32(values, [4]), b: float32(values, [4]) },
      { storeAs: { h: "F16", b: "BF16" } },
    );
    assert.equal(bytes.length - 8 - Number(new DataView(bytes.buffer).getBigUint64(0, true)), 16);
    const back = decodeSafetensors(bytes).tensors;
    const h = [...back.get("h")!.data] as number[];
    const b = [...back.get("b")!.data] as number[];
    values.forEach((v, i) => {
      assert.ok(Math.abs(h[i]! - v) <= Math.max(Math.abs(v) * 2 ** -11, 2 ** -25), `F16 ${v} -> ${h[i]}`);
      assert.ok(Math.abs(b[i]! - v) <= Math.abs(v) * 2 ** -8, `BF16 ${v} -> ${b[i]}`);
    });
    assert.throws(
      () => encodeSafetensors({ x: float64([1], [1]) }, { storeAs: { x: "F16" } }),
      /float64 tensors can be stored as F64, not F16/,
    );
  });

  test("files: written tensor by tensor, read one tensor without loading the rest", async () => {
    const big = new Float32Array(4 << 20).map((_, i) => i % 1000);
    const path = join(dir, "big.safetensors");
    await writeSafetensors(
      path,
      new Map<string, HostTensor>([
        ["big", float32(big, [4096, 1024])],
        ["small", int64([1n, 2n], [2])],
      ]),
      { metadata: { step: "3" } },
    );
    assert.equal(statSync(path).size, readFileSync(path).length);
    const f = await SafetensorsFile.open(path);
    try {
      assert.deepEqual(f.names, ["small", "big"], "I64 before F32");
      assert.deepEqual(f.metadata, { step: "3" });
      assert.deepEqual(await f.read("small"), int64([1n, 2n], [2]));
      const back = await f.read("big");
      assert.deepEqual(back.shape, [4096, 1024]);
      assert.equal((back.data as Float32Array)[123_456], 456);
      await assert.rejects(() => f.read("nope"), /no tensor named "nope"/);
    } finally {
      await f.close();
    }
  });

  test("a truncated file is refused with the reason", async () => {
    const path = join(dir, "cut.safetensors");
    const full = encodeSafetensors({ a: float32([1, 2, 3], [3]) });
    writeFileSync(path, full.subarray(0, full.length - 2));
    await assert.rejects(() => readSafetensors(path), /cover 12 bytes of a 10-byte/);
  });
});

describe("safetensors against PyTorch's half conversions", () => {
  const script = `
import struct, sys, json, torch
torch.manual_seed(0)
x = torch.cat([torch.randn(500) * 10, torch.randn(200) * 1e-5, torch.tensor([65519., 65520., 1e6, -0.0])]).float()
tensors = {"x": x, "h": x.half(), "b": x.bfloat16()}
dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
header, blobs, off = {}, [], 0
for name, t in tensors.items():
    raw = t.view(torch.int16).numpy().tobytes() if t.dtype != torch.float32 else t.numpy().tobytes()
    header[name] = {"dtype": dt[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw); off += len(raw)
for name in ["h", "b"]:
    raw = tensors[name].float().numpy().tobytes()
    header[name + "_as_f32"] = {"dtype": "F32", "shape": [x.numel()], "data_offsets": [off, off + len(raw)]}
    blobs.append(raw); off += len(raw)
h = json.dumps(header).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))
`;
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  const skip = probe.status === 0 ? false : "Debian python3-torch is not importable by /usr/bin/python3";

  test("reads torch's F16/BF16 bytes as torch widens them, and narrows float32 exactly as torch does", {
    skip,
  }, async () => {
    const path = join(dir, "torch.safetensors");
    const run = spawnSync("/usr/bin/python3", ["-c", script, path], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const { tensors } = await readSafetensors(path);
    assert.deepEqual(tensors.get("h")!.data, tensors.get("h_as_f32")!.data);
    assert.deepEqual(tensors.get("b")!.data, tensors.get("b_as_f32")!.data);
    const mine = encodeSafetensors(
      { h: tensors.get("x")!, b: tensors.get("x")! },
      { storeAs: { h: "F16", b: "BF16" } },
    );
    const again = decodeSafetensors(mine).tensors;
    assert.deepEqual(again.get("h")!.data, tensors.get("h_as_f32")!.data);
    assert.deepEqual(again.get("b")!.data, tensors.get("b_as_f32")!.data);
  });
});
