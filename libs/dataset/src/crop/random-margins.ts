import type { Margins } from "./box.js";

/** A source of uniform numbers in [0, 1): pass a seeded generator (`Rng.next` of @exits/graph), never Math.random. */
export type UniformSource = () => number;

/** Range of the per-side training margin; MAL draws from [0, 1.2]. */
export interface RandomMarginOptions {
  min?: number;
  max?: number;
}

/**
 * MAL's training margins (RandomCropV2): each side draws its own margin uniformly in [min, max],
 * then one gate g per axis scales the two sides of that axis by g and 1 − g. The object therefore
 * lands off-centre: a wide left margin comes with a narrow right one.
 * Draw order (fixed, so a seed reproduces a crop): left, top, right, bottom margins, then gx, gy.
 */
export function randomMargins(random: UniformSource, options: RandomMarginOptions = {}): Margins {
  const min = options.min ?? 0;
  const max = options.max ?? 1.2;
  if (!(max >= min) || min < 0) throw new RangeError(`margin range must satisfy 0 ≤ min ≤ max, got [${min}, ${max}]`);
  const draw = () => min + (max - min) * random();
  const left = draw();
  const top = draw();
  const right = draw();
  const bottom = draw();
  const gx = random();
  const gy = random();
  return { left: left * gx, top: top * gy, right: right * (1 - gx), bottom: bottom * (1 - gy) };
}
