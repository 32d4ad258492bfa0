/**
 * Separable bilinear resampling along one axis: output index u reads source coordinate
 * `s = a·u + b` (index space, integer = pixel centre) from the two taps floor(s) and floor(s) + 1.
 * `border` says what a tap outside [0, n) reads:
 * - "mirror": reflect without repeating the edge pixel (…2 1 | 0 1 2 … n−1 | n−2 …, OpenCV's
 *   BORDER_REFLECT_101, PyTorch's "reflect"), periodic for taps far outside;
 * - "zero": contributes 0 (masks: nothing is known outside the image);
 * - "clamp": the edge pixel (PyTorch's interpolate with align_corners=False clamps like this).
 */
export type Border = "mirror" | "zero" | "clamp";

export interface AxisTaps {
  /** First tap index per output position, −1 when it reads 0 ("zero" border). */
  i0: Int32Array;
  i1: Int32Array;
  /** Weight of the second tap; the first gets 1 − w1. */
  w1: Float32Array;
}

export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const k = ((i % period) + period) % period;
  return k < n ? k : period - k;
}

function borderIndex(i: number, n: number, border: Border): number {
  if (i >= 0 && i < n) return i;
  if (border === "mirror") return reflect101(i, n);
  if (border === "clamp") return i < 0 ? 0 : n - 1;
  return -1;
}

export function axisTaps(outN: number, srcN: number, a: number, b: number, border: Border): AxisTaps {
  const i0 = new Int32Array(outN);
  const i1 = new Int32Array(outN);
  const w1 = new Float32Array(outN);
  for (let u = 0; u < outN; u++) {
    const s = a * u + b;
    const f = Math.floor(s);
    i0[u] = borderIndex(f, srcN, border);
    i1[u] = borderIndex(f + 1, srcN, border);
    w1[u] = s - f;
  }
  return { i0, i1, w1 };
}

/** A dense row-major, channel-interleaved raster (HWC); `data` may be bytes or floats. */
export interface Raster {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
}

/**
 * Samples `src` on the grid given by the per-axis taps into a new Float32Array of
 * `cols.i0.length × rows.i0.length × channels`.
 */
export function sampleBilinear(src: Raster, cols: AxisTaps, rows: AxisTaps): Float32Array {
  const { width, channels: c, data } = src;
  const outW = cols.i0.length;
  const outH = rows.i0.length;
  const out = new Float32Array(outW * outH * c);
  for (let v = 0; v < outH; v++) {
    const r0 = rows.i0[v]!;
    const r1 = rows.i1[v]!;
    const wy = rows.w1[v]!;
    for (let u = 0; u < outW; u++) {
      const c0 = cols.i0[u]!;
      const c1 = cols.i1[u]!;
      const wx = cols.w1[u]!;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const o = (v * outW + u) * c;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        if (r0 >= 0) {
          if (c0 >= 0) acc += w00 * data[(r0 * width + c0) * c + k]!;
          if (c1 >= 0) acc += w01 * data[(r0 * width + c1) * c + k]!;
        }
        if (r1 >= 0) {
          if (c0 >= 0) acc += w10 * data[(r1 * width + c0) * c + k]!;
          if (c1 >= 0) acc += w11 * data[(r1 * width + c1) * c + k]!;
        }
        out[o + k] = acc;
      }
    }
  }
  return out;
}
