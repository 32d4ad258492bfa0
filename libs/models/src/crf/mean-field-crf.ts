import {
  add,
  cast,
  clamp,
  concat,
  div,
  exp,
  greater,
  log,
  mul,
  neg,
  ones,
  pad,
  reshape,
  slice,
  square,
  sub,
  sum,
  type Tensor,
} from "@exits/graph";

export interface CrfOptions {
  /** Mean-field iterations (MAL: 100). */
  iterations?: number;
  /** Colour bandwidth ζ of k_ij = exp(−‖I_i − I_j‖² / (2ζ²)) (MAL: 0.1). */
  zeta?: number;
  /** Neighbourhood side, odd (MAL: 3). */
  kernel?: number;
  /** Probabilities are clamped to [low, high] at the start and after every update (MAL: 0.1, 0.9). */
  low?: number;
  high?: number;
  /** Binarise the result (> 0.5, as MAL) — default true; false returns the clamped probabilities. */
  binarize?: boolean;
}

/** MAL's guard in the renormalisation x_l / (ε + Σ_l x_l). */
const renormEps = 1e-6;

/** out(i) = x(i + (dy, dx)) for a tensor padded by r on its last two axes. */
function shifted(padded: Tensor, r: number, dy: number, dx: number, h: number, w: number): Tensor {
  const rank = padded.rank;
  return slice(padded, [r + dy, r + dx], [r + dy + h, r + dx + w], [rank - 2, rank - 1]);
}

/**
 * MAL's mean-field CRF (method §3.6) as a graph. prob [B, R, R] (M_avg), image [B, 3, R, R] (the
 * normalised RGB crop at R × R), box [B, R, R] 0/1 → [B, R, R]. No gradient is meant to flow
 * (callers wrap it in stopGradient).
 *
 * As in MAL's `MeanField` (NVlabs/mask-auto-labeler, models/mal.py), which method.md follows:
 * - the k × k window includes the centre (k_ii = 1), so each update keeps the pixel's own
 *   −log x as its unary term;
 * - the exponent is −‖ΔI‖² / (2ζ²) summed over the colour channels;
 * - a neighbour beyond the crop border weighs 0 (MAL unfolds with zero padding after adding 10
 *   to the image, which makes those weights underflow to 0; −log x is zero-padded as well);
 * - x starts as clamp(prob ⊙ box), each iteration x_l ∝ exp(−agg_l) with the foreground forced
 *   to 0 outside the box, renormalised with ε = 1e-6 and clamped; the background is 1 − x_fg.
 */
export function meanFieldCrf(prob: Tensor, image: Tensor, box: Tensor, opts: CrfOptions = {}): Tensor {
  const iterations = opts.iterations ?? 100;
  const zeta = opts.zeta ?? 0.1;
  const kernel = opts.kernel ?? 3;
  const low = opts.low ?? 0.1;
  const high = opts.high ?? 0.9;
  if (prob.rank !== 3 || image.rank !== 4 || image.shape[1] !== 3)
    throw new Error(
      `meanFieldCrf: prob [B, R, R] and image [B, 3, R, R] expected, got [${prob.shape}] and [${image.shape}]`,
    );
  if (!Number.isInteger(kernel) || kernel < 1 || kernel % 2 !== 1)
    throw new Error(`meanFieldCrf: kernel must be an odd positive integer, got ${kernel}`);
  const [b, h, w] = prob.shape as [number, number, number];
  const r = (kernel - 1) / 2;
  const dt = prob.dtype;
  const offsets: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) offsets.push([dy, dx]);
  const k = offsets.length;
  const padLast2 = (x: Tensor) =>
    pad(x, [...x.shape.slice(0, -2).map(() => [0, 0] as [number, number]), [r, r], [r, r]]);

  // k_o(i) for every offset o, computed once: [B, 1, K, H, W].
  const paddedImage = padLast2(image);
  const inside = padLast2(ones([1, 1, h, w], dt));
  const weights = reshape(
    concat(
      offsets.map(([dy, dx]) => {
        const d2 = sum(square(sub(image, shifted(paddedImage, r, dy, dx, h, w))), 1, true);
        return mul(exp(mul(d2, -1 / (2 * zeta * zeta))), shifted(inside, r, dy, dx, h, w));
      }),
      1,
    ),
    [b, 1, k, h, w],
  );
  const boxFg = reshape(box, [b, 1, h, w]);
  let fg = clamp(mul(reshape(prob, [b, 1, h, w]), boxFg), low, high);
  for (let i = 0; i < iterations; i++) {
    // Both labels at once: channel 0 background, 1 foreground.
    const padded = padLast2(neg(log(concat([sub(1, fg), fg], 1))));
    const window = concat(
      offsets.map(([dy, dx]) => reshape(shifted(padded, r, dy, dx, h, w), [b, 2, 1, h, w])),
      2,
    );
    const e = exp(neg(sum(mul(window, weights), 2)));
    const eBg = slice(e, [0], [1], [1]);
    const eFg = mul(slice(e, [1], [2], [1]), boxFg);
    fg = clamp(div(eFg, add(add(eBg, eFg), renormEps)), low, high);
  }
  const out = reshape(fg, [b, h, w]);
  return (opts.binarize ?? true) ? cast(greater(out, 0.5), dt) : out;
}
