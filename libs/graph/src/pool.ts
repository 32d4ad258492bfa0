import { div } from "./elementwise.js";
import { fail } from "./errors.js";
import { concat, pad, reshape, slice } from "./movement.js";
import { max, sum } from "./reduce.js";
import type { Tensor } from "./tensor.js";

type Combine = (x: Tensor, axes: number[]) => Tensor;

/** Window reduction over NCHW: a reshape when windows tile the input, else stacked strided slices. */
function pool2d(
  op: string,
  x: Tensor,
  kernel: number,
  stride: number,
  padding: number,
  fill: number,
  reduce: Combine,
): Tensor {
  if (x.rank !== 4) fail(op, "input must be NCHW");
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (padding === 0 && stride === kernel && h % kernel === 0 && w % kernel === 0) {
    return reduce(reshape(x, [n, c, h / kernel, kernel, w / kernel, kernel]), [3, 5]);
  }
  const xp = pad(
    x,
    [
      [0, 0],
      [0, 0],
      [padding, padding],
      [padding, padding],
    ],
    fill,
  );
  const oh = Math.floor((h + 2 * padding - kernel) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - kernel) / stride) + 1;
  if (oh <= 0 || ow <= 0) fail(op, "kernel larger than padded input");
  const windows: Tensor[] = [];
  for (let i = 0; i < kernel; i++)
    for (let j = 0; j < kernel; j++) {
      const s = slice(xp, [i, j], [i + stride * (oh - 1) + 1, j + stride * (ow - 1) + 1], [2, 3], [stride, stride]);
      windows.push(reshape(s, [n, c, 1, oh, ow]));
    }
  return reduce(concat(windows, 2), [2]);
}

/** Average pooling (zero padding counted, torch's count_include_pad=True). */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return pool2d("avgPool2d", x, kernel, stride, padding, 0, (t, axes) => div(sum(t, axes), kernel * kernel));
}

/** Max pooling; ties share the gradient equally. */
export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return pool2d("maxPool2d", x, kernel, stride, padding, Number.NEGATIVE_INFINITY, (t, axes) => max(t, axes));
}
