import { boxMaskInCrop, type ObjectCrop, type Point, pointToPatch } from "@exits/dataset";

/** The seeds of one crop on its N × N patch grid (method §3.3), as row-major patch indices. */
export interface CropSeeds {
  grid: number;
  /** P_FG: the four extreme points moved inward by δ patches (duplicates removed). */
  foreground: number[];
  /** P_BG: every patch whose centre lies outside the object box. */
  background: number[];
  /** 1 for patches whose centre lies inside the box (P_Box ∪ P_FG ∩ box). */
  inBox: Uint8Array;
}

/**
 * Seeds of a crop. Each extreme point moves inward by δ patches — top down, left right, bottom up,
 * right left — but never past the middle of the box, so a thin object keeps its seeds on its own
 * side; the moved point's patch is a foreground seed.
 */
export function cropSeeds(crop: ObjectCrop, grid: number, delta: number): CropSeeds {
  const size = crop.map.size;
  const step = (delta * size) / grid;
  const b = crop.boxInCrop;
  const dx = Math.min(step, (b.x1 - b.x0) / 2);
  const dy = Math.min(step, (b.y1 - b.y0) / 2);
  const [top, left, bottom, right] = crop.points;
  const moved: Point[] = [
    [top[0], top[1] + dy],
    [left[0] + dx, left[1]],
    [bottom[0], bottom[1] - dy],
    [right[0] - dx, right[1]],
  ];
  const foreground = [
    ...new Set(
      moved.map((p) => {
        const [col, row] = pointToPatch(p, size, grid);
        return row * grid + col;
      }),
    ),
  ];
  const inBox = boxMaskInCrop(crop.map, crop.box, grid);
  const background: number[] = [];
  for (let i = 0; i < inBox.length; i++) if (!inBox[i]) background.push(i);
  return { grid, foreground, background, inBox };
}

/** The two seed distributions of the random walk, [2, N²]: mean one-hot rows of P_FG and of P_BG. */
export function seedDistributions(seeds: CropSeeds, out: Float32Array, offset: number): void {
  const m = seeds.grid * seeds.grid;
  out.fill(0, offset, offset + 2 * m);
  for (const i of seeds.foreground) out[offset + i] = 1 / seeds.foreground.length;
  for (const i of seeds.background) out[offset + m + i] = 1 / seeds.background.length;
}
