import { type DType } from "./dtype.js";
import { fail } from "./errors.js";
import { constant } from "./leaves.js";
import { matmul } from "./matmul.js";
import type { Tensor } from "./tensor.js";

/**
 * Row-stochastic [outSize, inSize] matrix of 1-D linear interpolation with
 * align_corners=False (torch's `F.interpolate(mode="bilinear")` given an output size).
 */
export function interpolationMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l1 = src - i0;
    m[o * inSize + i0]! += 1 - l1;
    m[o * inSize + i1]! += l1;
  }
  return m;
}

function transposed(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** Bilinear resize of [..., H, W] to [..., outH, outW] as Ry @ x @ Rxᵀ (gradient by the matmul rule). */
export function resizeBilinear(x: Tensor, outH: number, outW: number): Tensor {
  if (x.rank < 2) fail("resizeBilinear", "input needs rank >= 2");
  const [h, w] = x.shape.slice(-2) as [number, number];
  const dtype: DType = x.dtype;
  let y = x;
  if (outH !== h) y = matmul(constant(interpolationMatrix(h, outH), [outH, h], dtype), y);
  if (outW !== w) y = matmul(y, constant(transposed(interpolationMatrix(w, outW), outW, w), [w, outW], dtype));
  return y;
}
