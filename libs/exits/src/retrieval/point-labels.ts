import { imageToCrop, type ObjectCrop, type Point, pointToPatch } from "@exits/dataset";
import type { Rng } from "@exits/graph";
import { cropSeeds } from "./seeds.js";

/** Retrieved pseudo points of one object, kept in image index space (crop-independent). */
export interface ObjectPoints {
  id: number;
  foreground: Point[];
  background: Point[];
  /** Box patches on the canonical crop that could have been labelled. */
  candidates: number;
}

/** The point-loss supervision of one training crop on its N × N grid (method §3.6). */
export interface CropPointLabels {
  /** Ŷ: 1 on P_FG ∪ P̂_FG. */
  target: Uint8Array;
  /** K: 1 on every labelled patch (P_FG ∪ P̂_FG ∪ P_BG ∪ P̂_BG). */
  known: Uint8Array;
  /** True where the object has no retrieved point: its loss adds λ_mil · L_mil. */
  fallback: boolean;
}

/**
 * Maps an object's retrieved points into an (augmented) training crop: each point lands on the
 * patch containing it (points that fall outside the crop are dropped), after point dropout —
 * each retrieved point independently with probability `dropout`, a fresh draw per call (epoch and
 * object). Seeds are recomputed on this crop and never dropped; a seed overrides a retrieved
 * label on the same patch, and a patch claimed by both pseudo classes is left unlabelled.
 */
export function cropPointLabels(
  crop: ObjectCrop,
  grid: number,
  delta: number,
  points: ObjectPoints | undefined,
  dropout: { rng: Rng; p: number } | undefined,
): CropPointLabels {
  const m = grid * grid;
  const target = new Uint8Array(m);
  const known = new Uint8Array(m);
  const size = crop.map.size;
  const place = (list: readonly Point[], mark: Uint8Array) => {
    for (const p of list) {
      if (dropout && dropout.p > 0 && dropout.rng.next() < dropout.p) continue;
      const q = imageToCrop(crop.map, p);
      if (q[0] < -0.5 || q[1] < -0.5 || q[0] >= size - 0.5 || q[1] >= size - 0.5) continue;
      const [col, row] = pointToPatch(q, size, grid);
      mark[row * grid + col] = 1;
    }
  };
  const fg = new Uint8Array(m);
  const bg = new Uint8Array(m);
  if (points) {
    place(points.foreground, fg);
    place(points.background, bg);
  }
  for (let i = 0; i < m; i++) {
    if (fg[i] && !bg[i]) {
      target[i] = 1;
      known[i] = 1;
    } else if (bg[i] && !fg[i]) known[i] = 1;
  }
  const seeds = cropSeeds(crop, grid, delta);
  for (const i of seeds.background) {
    target[i] = 0;
    known[i] = 1;
  }
  for (const i of seeds.foreground) {
    target[i] = 1;
    known[i] = 1;
  }
  const fallback = !points || points.foreground.length + points.background.length === 0;
  return { target, known, fallback };
}
