import type { BinaryMask } from "./mask-types.js";

/**
 * Number of connected foreground parts of a mask under 8-connectivity (pixels touching at a
 * corner belong to the same part, as in OpenCV's and scikit-image's default for 2-D masks).
 * Used to find "separated" objects (two or more parts). Iterative flood fill: no recursion depth
 * limit, O(pixels) time, one Int32Array of scratch.
 */
export function countComponents(mask: BinaryMask): number {
  const { width: w, height: h, data } = mask;
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  let parts = 0;
  for (let start = 0; start < w * h; start++) {
    if (!data[start] || seen[start]) continue;
    parts++;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const j = ny * w + nx;
          if (data[j] && !seen[j]) {
            seen[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
  }
  return parts;
}
