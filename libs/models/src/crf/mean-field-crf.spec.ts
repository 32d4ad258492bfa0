import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { input, Rng } from "@exits/graph";
import { compileGraph, float32, type HostTensor } from "@exits/runtime";
import { cpu, maxAbsDiff, pythonLacks, runOracle } from "../testing/python-oracle.testing.js";
import { meanFieldCrf } from "./mean-field-crf.js";

const r = 12;
const edge = 7;

/** Left `edge` columns one flat colour, the rest another (normalised RGB); noisy probabilities around `fg`/`bg`. */
function twoRegions(seed: number, fg: number, bg: number) {
  const rng = new Rng(seed);
  const image = new Float32Array(3 * r * r);
  const prob = new Float32Array(r * r);
  for (let y = 0; y < r; y++)
    for (let x = 0; x < r; x++) {
      image[0 * r * r + y * r + x] = x < edge ? 1.2 : -0.8;
      image[2 * r * r + y * r + x] = x < edge ? -0.5 : 1.5;
      prob[y * r + x] = (x < edge ? fg : bg) + rng.uniform(-0.15, 0.15);
    }
  return { image, prob };
}

const frame = Float32Array.from({ length: r * r }, (_, i) => {
  const [y, x] = [Math.floor(i / r), i % r];
  return x > 0 && y > 0 && x < r - 1 && y < r - 1 ? 1 : 0;
});
const whole = new Float32Array(r * r).fill(1);

async function crf(
  feeds: { prob: Float32Array; image: Float32Array; box: Float32Array },
  opts: Parameters<typeof meanFieldCrf>[3],
) {
  const out = meanFieldCrf(input("prob", [1, r, r]), input("image", [1, 3, r, r]), input("box", [1, r, r]), opts);
  const g = await compileGraph({ out }, { config: cpu });
  const res = await g.run({
    prob: float32(feeds.prob, [1, r, r]),
    image: float32(feeds.image, [1, 3, r, r]),
    box: float32(feeds.box, [1, r, r]),
  });
  await g.release();
  return res.out!.data as Float32Array;
}

describe("mean-field CRF", () => {
  test("two flat colour regions: the refined mask is exactly the foreground region, 0 outside the box", async () => {
    // Foreground leaning 0.65 ± 0.15, background 0.4 ± 0.15: thresholding the input at 0.5 is
    // wrong on many pixels; the colour-constant neighbourhoods vote them right.
    const { image, prob } = twoRegions(4, 0.65, 0.4);
    const noisy = prob.filter((v, i) => (i % r < edge ? v <= 0.5 : v > 0.5)).length;
    assert.ok(noisy > 10, `the input has ${noisy} wrong pixels at 0.5`);
    const out = await crf({ prob, image, box: whole }, { iterations: 20 });
    for (let i = 0; i < r * r; i++)
      assert.equal(out[i], i % r < edge ? 1 : 0, `pixel (${i % r}, ${Math.floor(i / r)})`);
    const framed = await crf({ prob, image, box: frame }, { iterations: 20 });
    for (let i = 0; i < r * r; i++) {
      if (!frame[i]) assert.equal(framed[i], 0, `pixel ${i} outside the box`);
      else if (i % r >= edge) assert.equal(framed[i], 0, `pixel ${i} beyond the colour edge`);
    }
    assert.ok(framed.some((v) => v === 1));
  });

  test("probabilities stay clamped to [low, high]; on a flat image a lone disagreeing pixel is outvoted", async () => {
    const { image, prob } = twoRegions(5, 0.7, 0.3);
    const soft = await crf({ prob, image, box: frame }, { iterations: 5, binarize: false });
    for (const v of soft) assert.ok(v >= 0.1 - 1e-7 && v <= 0.9 + 1e-7, `${v}`);
    // Centre 0.45 among eight 0.55 neighbours of the same colour, by hand (values off the clamps):
    // x_fg = e^−agg_fg / (e^−agg_fg + e^−agg_bg + 1e-6) with the centre's own −ln x in agg.
    const lone = new Float32Array(r * r).fill(0.55);
    lone[5 * r + 5] = 0.45;
    const once = await crf(
      { prob: lone, image: new Float32Array(3 * r * r), box: whole },
      { iterations: 1, binarize: false },
    );
    const eFg = 0.45 * 0.55 ** 8;
    const eBg = 0.55 * 0.45 ** 8;
    const want = eFg / (eFg + eBg + 1e-6);
    assert.ok(want > 0.5 && want < 0.9, "the hand computation flips it, unclamped");
    assert.ok(Math.abs(once[5 * r + 5]! - want) < 1e-6, `the lone pixel: ${once[5 * r + 5]} vs ${want}`);
    // The window of its neighbour (4, 4) holds the same nine values (the centre counts).
    assert.ok(Math.abs(once[4 * r + 4]! - want) < 1e-6, `its neighbour: ${once[4 * r + 4]}`);
  });

  test("equals the NumPy reference of MAL's update on a random case (float32, not binarised)", {
    skip: pythonLacks("numpy"),
  }, async (t) => {
    const rng = new Rng(7);
    const b = 2;
    const feeds: Record<string, HostTensor> = {
      prob: float32(
        Float32Array.from({ length: b * r * r }, () => rng.next()),
        [b, r, r],
      ),
      image: float32(
        Float32Array.from({ length: b * 3 * r * r }, () => rng.uniform(-1, 1) * 0.3),
        [b, 3, r, r],
      ),
      box: float32(Float32Array.from(Array.from({ length: b }, () => [...frame]).flat()), [b, r, r]),
    };
    // A wider window saturates faster: fewer iterations keep values off the clamps.
    for (const [kernel, iterations] of [
      [3, 10],
      [5, 3],
    ]) {
      const out = meanFieldCrf(input("prob", [b, r, r]), input("image", [b, 3, r, r]), input("box", [b, r, r]), {
        iterations,
        kernel,
        binarize: false,
      });
      const g = await compileGraph({ out }, { config: cpu });
      const got = (await g.run(feeds)).out!.data as Float32Array;
      await g.release();
      const ref = await runOracle("numpy_oracle.py", "crf", feeds, { iterations, zeta: 0.1, kernel });
      const want = ref.get("refined")!.data as Float32Array;
      t.diagnostic(`kernel ${kernel}, ${iterations} iterations: max |graph − NumPy| ${maxAbsDiff(got, want)}`);
      assert.ok(maxAbsDiff(got, want) < 1e-4, `kernel ${kernel}: max diff ${maxAbsDiff(got, want)}`);
      // Not trivially clamped everywhere: the case exercises the interior of [0.1, 0.9].
      const interior = want.filter((v) => v > 0.11 && v < 0.89).length;
      assert.ok(interior > 20, `kernel ${kernel}: only ${interior} values inside (0.1, 0.9)`);
    }
  });
});
