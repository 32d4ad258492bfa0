import type { RetrievalConfig } from "../config/method-config.js";
import type { CropSeeds } from "./seeds.js";

/** Pseudo labels of one object on its canonical crop's grid: row-major patch indices. */
export interface SelectedPatches {
  foreground: number[];
  background: number[];
  /** |P_Box|: box patches that could get a label (seeds excluded). */
  candidates: number;
}

/**
 * Thresholds the N²-scaled retrieval score of the box patches (method §3.3) into pseudo foreground
 * and background. Seeds are never candidates. In "quantile" mode the top and bottom fractions of
 * the candidates by score are taken, but only on the right side of 0 (a patch the walk scores as
 * closer to the background seeds is never pseudo foreground).
 */
export function selectPatches(
  score: ArrayLike<number>,
  seeds: CropSeeds,
  r: Pick<RetrievalConfig, "mode" | "tauFg" | "tauBg" | "fgFraction" | "bgFraction">,
): SelectedPatches {
  const seedSet = new Set(seeds.foreground);
  const candidates: number[] = [];
  for (let i = 0; i < seeds.inBox.length; i++) if (seeds.inBox[i] && !seedSet.has(i)) candidates.push(i);
  const foreground: number[] = [];
  const background: number[] = [];
  if (r.mode === "fixed") {
    for (const i of candidates) {
      const s = score[i]!;
      if (s >= r.tauFg) foreground.push(i);
      else if (s <= r.tauBg) background.push(i);
    }
  } else {
    const order = [...candidates].sort((a, b) => score[b]! - score[a]! || a - b);
    const nFg = Math.floor(r.fgFraction * candidates.length);
    const nBg = Math.floor(r.bgFraction * candidates.length);
    for (const i of order.slice(0, nFg)) if (score[i]! > 0) foreground.push(i);
    for (const i of order.slice(order.length - nBg)) if (score[i]! < 0) background.push(i);
  }
  return {
    foreground: foreground.sort((a, b) => a - b),
    background: background.sort((a, b) => a - b),
    candidates: candidates.length,
  };
}
