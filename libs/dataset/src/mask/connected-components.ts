import type { BinaryMask } from "./mask-types.js";

/**
 * Pixel counts of the connected foreground parts of a mask under 8-connectivity (pixels touching
 * at a corner belong to the same part, as in OpenCV's and scikit-image's default for 2-D masks),
 * in order of each part's first pixel (row-major). Iterative flood fill: no recursion depth
 * limit, O(pixels) time.
 */
export function componentSizes(mask: BinaryMask): number[] {
  const { width: w, height: h, data } = mask;
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const sizes: number[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!data[start] || seen[start]) continue;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const i = stack[--top]!;
      size++;
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
    sizes.push(size);
  }
  return sizes;
}

/** Number of 8-connected foreground parts; "separated" objects (method §6) have two or more. */
export function countComponents(mask: BinaryMask): number {
  return componentSizes(mask).length;
}
