import { isFloat } from "./dtype.js";
import { fail } from "./errors.js";
import { shapeString, Tensor } from "./tensor.js";

/** One value for both spatial axes, or [height, width]. */
export type Pair = number | readonly [number, number];

/** torch.nn.functional.conv2d's geometry (symmetric zero padding); defaults 1, 0, 1. */
export interface Conv2dOptions {
  stride?: Pair;
  /** Zeros added on both sides of each spatial axis. */
  padding?: Pair;
  dilation?: Pair;
}

/** torch.nn.functional.conv_transpose2d's geometry; the adjoint of conv2d with the same options. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows / columns on the bottom / right edge (to reach a size a strided conv2d came from). */
  outputPadding?: Pair;
}

const pair = (v: Pair | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : [v[0], v[1]];

function checkOperands(op: string, x: Tensor, w: Tensor): void {
  if (!(x instanceof Tensor) || !(w instanceof Tensor)) fail(op, "operand is not a Tensor");
  if (x.rank !== 4 || w.rank !== 4)
    fail(op, `need NCHW input and 4-D weight, got ${shapeString(x.shape)}, ${shapeString(w.shape)}`);
  if (x.dtype !== w.dtype || !isFloat(x.dtype)) fail(op, `dtypes must be equal floats, got ${x.dtype}, ${w.dtype}`);
}

/** 2-D cross-correlation like torch.nn.functional.conv2d (groups = 1). x [N,I,H,W], w [O,I,kh,kw]. */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  checkOperands("conv2d", x, w);
  const stride = pair(opts.stride, 1);
  const padding = pair(opts.padding, 0);
  const dilation = pair(opts.dilation, 1);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  if (c !== i) fail("conv2d", `input has ${c} channels, weight expects ${i}`);
  const out = [h, wd].map((size, a) => {
    const k = a === 0 ? kh : kw;
    const span = size + 2 * padding[a]! - dilation[a]! * (k - 1) - 1;
    if (span < 0) fail("conv2d", `kernel larger than padded input ${shapeString(x.shape)}`);
    return Math.floor(span / stride[a]!) + 1;
  });
  return new Tensor("conv2d", [x, w], { stride, padding, dilation }, [n, o, out[0]!, out[1]!], x.dtype);
}

/** Transposed convolution like torch conv_transpose2d (groups = 1). x [N,I,H,W], w [I,O,kh,kw]. */
export function convTranspose2d(x: Tensor, w: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  checkOperands("convTranspose2d", x, w);
  const stride = pair(opts.stride, 1);
  const padding = pair(opts.padding, 0);
  const dilation = pair(opts.dilation, 1);
  const outputPadding = pair(opts.outputPadding, 0);
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [i, o, kh, kw] = w.shape as [number, number, number, number];
  if (c !== i) fail("convTranspose2d", `input has ${c} channels, weight expects ${i}`);
  if (outputPadding.some((p, a) => p < 0 || (p >= stride[a]! && p >= dilation[a]!)))
    fail("convTranspose2d", "outputPadding must be smaller than stride or dilation");
  const out = [h, wd].map((size, a) => {
    const k = a === 0 ? kh : kw;
    return (size - 1) * stride[a]! - 2 * padding[a]! + dilation[a]! * (k - 1) + outputPadding[a]! + 1;
  });
  if (out.some((d) => d <= 0)) fail("convTranspose2d", "output would be empty");
  return new Tensor(
    "convTranspose2d",
    [x, w],
    { stride, padding, dilation, outputPadding },
    [n, o, out[0]!, out[1]!],
    x.dtype,
  );
}
