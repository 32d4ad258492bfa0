import type { RgbImage } from "../image/rgb-image.js";
import type { BinaryMask } from "../mask/mask-types.js";
import type { Point } from "../points/extreme-points.js";
import type { Colour } from "../synthetic/textures.js";
import { paletteColour } from "./palette.js";

export interface MaskOverlay {
  mask: BinaryMask;
  colour?: Colour;
}

export interface MaskDrawOptions {
  /** Opacity of the fill (default 0.45): the image stays readable under it. */
  alpha?: number;
  /** Contour thickness in pixels, drawn opaque (default 1; 0 = none). */
  contour?: number;
}

/**
 * Masks drawn over a copy of the image: a semi-transparent fill and an opaque contour (the mask's
 * own pixels that have a 4-neighbour outside it, thickened inward). Colours default to the palette.
 */
export function drawMasks(image: RgbImage, overlays: readonly MaskOverlay[], options: MaskDrawOptions = {}): RgbImage {
  const alpha = options.alpha ?? 0.45;
  const thickness = options.contour ?? 1;
  const { width: W, height: H } = image;
  const out = new Uint8Array(image.data);
  overlays.forEach((overlay, k) => {
    const { mask } = overlay;
    if (mask.width !== W || mask.height !== H) {
      throw new RangeError(`mask ${mask.width}×${mask.height} does not match image ${W}×${H}`);
    }
    const colour = overlay.colour ?? paletteColour(k);
    const edge = contourOf(mask, thickness);
    for (let p = 0; p < W * H; p++) {
      if (!mask.data[p]) continue;
      const a = edge[p] ? 1 : alpha;
      for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(out[p * 3 + c]! * (1 - a) + colour[c]! * a);
    }
  });
  return { width: W, height: H, data: out };
}

/** Mask pixels within `thickness` steps (4-neighbourhood) of the outside; the image border counts as outside. */
export function contourOf(mask: BinaryMask, thickness: number): Uint8Array {
  const { width: W, height: H, data } = mask;
  const edge = new Uint8Array(W * H);
  if (thickness <= 0) return edge;
  let inside = new Uint8Array(W * H);
  for (let p = 0; p < W * H; p++) inside[p] = data[p] ? 1 : 0;
  for (let step = 0; step < thickness; step++) {
    const next = new Uint8Array(inside);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        if (!inside[p]) continue;
        const outside =
          x === 0 ||
          y === 0 ||
          x === W - 1 ||
          y === H - 1 ||
          !inside[p - 1] ||
          !inside[p + 1] ||
          !inside[p - W] ||
          !inside[p + W];
        if (outside) {
          edge[p] = 1;
          next[p] = 0;
        }
      }
    }
    inside = next;
  }
  return edge;
}

export interface PointDrawOptions {
  /** Dot radius in pixels (default 3). */
  radius?: number;
  colour?: Colour;
  /** Ring around each dot so it shows on any background (default black). */
  outline?: Colour;
}

/** Filled dots with a one-pixel outline at (fractional) index-space points, clipped to the image. */
export function drawPoints(image: RgbImage, points: readonly Point[], options: PointDrawOptions = {}): RgbImage {
  const r = options.radius ?? 3;
  const colour = options.colour ?? [255, 255, 255];
  const outline = options.outline ?? [0, 0, 0];
  const { width: W, height: H } = image;
  const out = new Uint8Array(image.data);
  for (const [px, py] of points) {
    for (let y = Math.floor(py - r - 1); y <= Math.ceil(py + r + 1); y++) {
      for (let x = Math.floor(px - r - 1); x <= Math.ceil(px + r + 1); x++) {
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const d = Math.hypot(x - px, y - py);
        const c = d <= r ? colour : d <= r + 1 ? outline : undefined;
        if (c) out.set(c, (y * W + x) * 3);
      }
    }
  }
  return { width: W, height: H, data: out };
}

/** One object to draw: its mask, optional extreme points and colour. */
export interface AnnotatedObject {
  mask?: BinaryMask;
  points?: readonly Point[];
  colour?: Colour;
}

/** Masks (fill + contour) and then every object's points, in the object's colour with a dark ring. */
export function drawObjects(
  image: RgbImage,
  objects: readonly AnnotatedObject[],
  options: MaskDrawOptions & { pointRadius?: number } = {},
): RgbImage {
  const colours = objects.map((o, k) => o.colour ?? paletteColour(k));
  let out = drawMasks(
    image,
    objects.flatMap((o, k) => (o.mask ? [{ mask: o.mask, colour: colours[k] }] : [])),
    options,
  );
  objects.forEach((o, k) => {
    if (o.points) out = drawPoints(out, o.points, { radius: options.pointRadius ?? 3, colour: colours[k] });
  });
  return out;
}
