import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "./half-float.js";

describe("binary16", () => {
  test("known bit patterns", () => {
    assert.equal(floatToHalf(1), 0x3c00);
    assert.equal(floatToHalf(-2), 0xc000);
    assert.equal(floatToHalf(65504), 0x7bff);
    assert.equal(floatToHalf(65520), 0x7c00); // rounds up to infinity
    assert.equal(floatToHalf(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(floatToHalf(2 ** -25), 0x0000); // tie to even: 0
    assert.equal(floatToHalf(3 * 2 ** -25), 0x0002); // tie to even: 2
    assert.equal(floatToHalf(-0), 0x8000);
    assert.equal(floatToHalf(Number.POSITIVE_INFINITY), 0x7c00);
    assert.equal(floatToHalf(Number.NaN) & 0x7e00, 0x7e00);
    assert.equal(halfToFloat(0x3555), 0.333251953125);
    assert.equal(halfToFloat(0x0400), 2 ** -14);
    assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  });

  test("every half value survives float and back", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) continue;
      assert.equal(floatToHalf(x), h, `pattern ${h.toString(16)}`);
    }
  });

  test("encoding picks the nearest half, ties to even", () => {
    fc.assert(
      fc.property(fc.float({ min: -65000, max: 65000, noNaN: true }), (x) => {
        const h = floatToHalf(x);
        const err = Math.abs(halfToFloat(h) - x);
        for (const n of [h + 1, h - 1]) {
          if ((n & 0x7fff) > 0x7bff || n < 0 || ((n ^ h) & 0x8000) !== 0) continue;
          const other = Math.abs(halfToFloat(n) - x);
          assert.ok(err < other || (err === other && (h & 1) === 0), `x=${x} h=${h} n=${n}`);
        }
      }),
    );
  });
});

describe("bfloat16", () => {
  test("known bit patterns and rounding", () => {
    assert.equal(floatToBfloat16(1), 0x3f80);
    assert.equal(floatToBfloat16(-3), 0xc040);
    assert.equal(bfloat16ToFloat(0x4049), 3.140625);
    // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties to even (1).
    assert.equal(floatToBfloat16(1 + 2 ** -8), 0x3f80);
    assert.equal(floatToBfloat16(1 + 3 * 2 ** -8), 0x3f82);
    assert.ok(Number.isNaN(bfloat16ToFloat(floatToBfloat16(Number.NaN))));
  });

  test("every bfloat16 value survives float and back", () => {
    for (let b = 0; b < 0x10000; b++) {
      const x = bfloat16ToFloat(b);
      if (Number.isNaN(x)) continue;
      assert.equal(floatToBfloat16(x), b);
    }
  });
});
