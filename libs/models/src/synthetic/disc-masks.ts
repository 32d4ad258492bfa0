import { Rng } from "@exits/graph";

/** A batch of the synthetic disc task, as flat float32 arrays (NCHW images, [B, N] targets). */
export interface DiscBatch {
  readonly images: Float32Array;
  readonly targets: Float32Array;
  readonly batch: number;
}

/**
 * Renders `batch` images of size × size pixels: one bright disc of random centre, radius and
 * colour on a noisy background, 3 channels. The target of each patch (grid of size/patch per
 * side, row-major) is 1 when the patch centre lies inside the disc. A learning task that needs
 * both appearance and position (the patch tokens must find the disc's extent).
 */
export function renderDiscs(seed: number, batch: number, size: number, patch: number): DiscBatch {
  const rng = new Rng(seed);
  const g = size / patch;
  const images = new Float32Array(batch * 3 * size * size);
  const targets = new Float32Array(batch * g * g);
  for (let b = 0; b < batch; b++) {
    const r = rng.uniform(0.15, 0.35) * size;
    const cx = rng.uniform(r, size - r);
    const cy = rng.uniform(r, size - r);
    const colour = [rng.uniform(0.5, 1), rng.uniform(0.5, 1), rng.uniform(0.5, 1)];
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;
          images[((b * 3 + c) * size + y) * size + x] = (inside ? colour[c]! : 0) + 0.1 * rng.normal();
        }
      }
    }
    for (let py = 0; py < g; py++) {
      for (let px = 0; px < g; px++) {
        const x = (px + 0.5) * patch;
        const y = (py + 0.5) * patch;
        targets[b * g * g + py * g + px] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
      }
    }
  }
  return { images, targets, batch };
}
