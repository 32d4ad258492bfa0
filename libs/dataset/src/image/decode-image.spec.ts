import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { sharedDataPath } from "../shared-data.testing.js";
import { decodeImage, ImageDecodeError, readImageSize } from "./decode-image.js";
import { encodeJpeg, encodePng, writeImage } from "./encode-image.js";

const W = 17;
const H = 11;

/** A colourful gradient so channel order and row-major layout errors show up. */
function pattern(channels: number): Buffer {
  const buf = Buffer.alloc(W * H * channels);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * channels;
      buf[i] = x * 15;
      if (channels > 1) buf[i + 1] = y * 23;
      if (channels > 2) buf[i + 2] = 255 - x * 7;
      if (channels > 3) buf[i + 3] = (x * 31) % 256;
    }
  }
  return buf;
}

function raw(channels: number) {
  return sharp(pattern(channels), { raw: { width: W, height: H, channels: channels as 1 | 2 | 3 | 4 } });
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe("decodeImage", () => {
  const rgb = new Uint8Array(pattern(3));
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("PNG RGB decodes exactly, row-major HWC", async () => {
    const img = await decodeImage(await raw(3).png().toBuffer());
    assert.equal(img.width, W);
    assert.equal(img.height, H);
    assert.deepEqual(img.data, rgb);
  });

  test("JPEG decodes close to the source", async () => {
    const img = await decodeImage(await raw(3).jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toBuffer());
    assert.ok(maxDiff(img.data, rgb) <= 8, `max diff ${maxDiff(img.data, rgb)}`);
  });

  test("grayscale PNG and JPEG replicate the channel", async () => {
    for (const buf of [
      await raw(1).toColourspace("b-w").png().toBuffer(),
      await raw(1).toColourspace("b-w").jpeg({ quality: 100 }).toBuffer(),
    ]) {
      assert.equal((await sharp(buf).metadata()).channels, 1);
      const img = await decodeImage(buf);
      const gray = pattern(1);
      for (let i = 0; i < W * H; i++) {
        assert.equal(img.data[i * 3], img.data[i * 3 + 1]);
        assert.equal(img.data[i * 3], img.data[i * 3 + 2]);
        assert.ok(Math.abs(img.data[i * 3]! - gray[i]!) <= 3);
      }
    }
  });

  test("RGBA PNG: alpha is dropped, stored colour kept (not composited)", async () => {
    const buf = await raw(4).png().toBuffer();
    assert.equal((await sharp(buf).metadata()).hasAlpha, true);
    const img = await decodeImage(buf);
    const rgba = pattern(4);
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 3; c++) assert.equal(img.data[i * 3 + c], rgba[i * 4 + c]);
    }
  });

  test("16-bit PNG is scaled to 8 bits", async () => {
    const buf = await raw(3).toColourspace("rgb16").png().toBuffer();
    assert.equal((await sharp(buf).metadata()).depth, "ushort");
    const img = await decodeImage(buf);
    assert.ok(maxDiff(img.data, rgb) <= 1, `max diff ${maxDiff(img.data, rgb)}`);
  });

  test("CMYK JPEG is converted to sRGB", async () => {
    // Mid-range colours: saturated blues lie outside the CMYK gamut and would be clipped.
    const mid = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        mid.set([60 + x * 7, 60 + y * 12, 190 - x * 4 - y * 3], (y * W + x) * 3);
      }
    }
    const buf = await sharp(mid, { raw: { width: W, height: H, channels: 3 } })
      .toColourspace("cmyk")
      .jpeg({ quality: 100 })
      .toBuffer();
    assert.equal((await sharp(buf).metadata()).space, "cmyk");
    const img = await decodeImage(buf);
    assert.equal(img.data.length, W * H * 3);
    // A CMYK round trip through ICC profiles shifts tones (dot gain, gamut), so compare structure:
    // each channel must correlate strongly (> 0.9; gamut clipping costs a little) with the source channel (a wrong channel order or an
    // inverted CMYK would not).
    for (let c = 0; c < 3; c++) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < W * H; i++) {
        a.push(img.data[i * 3 + c]!);
        b.push(mid[i * 3 + c]!);
      }
      assert.ok(correlation(a, b) > 0.9, `channel ${c} correlation ${correlation(a, b)}`);
    }
  });

  test("truncated and corrupt files raise an error naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "exits-img-"));
    dirs.push(dir);
    const big = sharp({ create: { width: 64, height: 48, channels: 3, background: "#3080c0" } });
    const jpeg = await big.clone().jpeg().toBuffer();
    const png = await big.clone().png().toBuffer();
    const cases: [string, Uint8Array][] = [
      ["half.jpg", jpeg.subarray(0, jpeg.length >> 1)],
      ["no-end.jpg", jpeg.subarray(0, jpeg.length - 2)],
      ["cut.png", png.subarray(0, png.length - 16)],
      ["noise.jpg", new Uint8Array(200).fill(7)],
      ["empty.png", new Uint8Array(0)],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      await assert.rejects(decodeImage(path), (e: unknown) => {
        assert.ok(e instanceof ImageDecodeError);
        assert.equal(e.file, path);
        assert.match(e.message, new RegExp(name.replace(".", "\\.")));
        return true;
      });
    }
    await assert.rejects(decodeImage(join(dir, "missing.jpg")), /missing\.jpg/);
  });

  test("encode round trip: PNG exact, JPEG close; writeImage picks the format by extension", async () => {
    const img = { width: W, height: H, data: rgb };
    assert.deepEqual((await decodeImage(await encodePng(img))).data, rgb);
    assert.ok(maxDiff((await decodeImage(await encodeJpeg(img, 100))).data, rgb) <= 8);
    const dir = await mkdtemp(join(tmpdir(), "exits-img-"));
    dirs.push(dir);
    await writeImage(join(dir, "a.png"), img);
    await writeImage(join(dir, "b.jpg"), img);
    assert.equal((await sharp(join(dir, "a.png")).metadata()).format, "png");
    assert.equal((await sharp(join(dir, "b.jpg")).metadata()).format, "jpeg");
    assert.deepEqual(await readImageSize(join(dir, "b.jpg")), { width: W, height: H });
    assert.deepEqual((await readdir(dir)).sort(), ["a.png", "b.jpg"]);
    await assert.rejects(writeImage(join(dir, "c.gif"), img), /unknown image extension/);
  });

  test("real coco-tiny JPEGs decode to the size in the header and in the COCO file", async (t) => {
    const { path: dir, skip } = sharedDataPath("coco-tiny");
    if (!dir) return t.skip(skip);
    const folder = join(dir, "val2017");
    const coco = JSON.parse(await readFile(join(dir, "annotations/instances_val2017.json"), "utf8"));
    const sizes = new Map<string, { width: number; height: number }>(
      coco.images.map((i: { file_name: string; width: number; height: number }) => [
        i.file_name,
        { width: i.width, height: i.height },
      ]),
    );
    const files = (await readdir(folder)).filter((f) => f.endsWith(".jpg")).slice(0, 4);
    assert.ok(files.length > 0);
    for (const f of files) {
      const path = join(folder, f);
      const img = await decodeImage(path);
      assert.deepEqual({ width: img.width, height: img.height }, await readImageSize(path));
      assert.deepEqual({ width: img.width, height: img.height }, sizes.get(f), f);
      assert.equal(img.data.length, img.width * img.height * 3);
      let lo = 255;
      let hi = 0;
      for (const v of img.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(hi - lo > 50, `${f} looks flat`);
    }
  });
});
