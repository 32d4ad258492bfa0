import type { BinaryMask, Box, Point, RgbImage } from "@exits/dataset";

/**
 * A window of an image shown as a picture: the pixels `[x0, x1) × [y0, y1)` scaled by `scale`
 * (nearest neighbour) to `width × height`. Masks are resampled through the same window before
 * their contours are drawn, so outlines are equally crisp on a 10-pixel object and a 500-pixel one.
 */
export interface PictureRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  scale: number;
  width: number;
  height: number;
}

/**
 * The region around `box`, enlarged by `margin` × its size on every side and clipped to the image,
 * scaled so its longer side is `side` pixels: small objects are enlarged to be visible, big ones
 * are shown whole.
 */
export function pictureRegion(
  image: { width: number; height: number },
  box: Box,
  side = 224,
  margin = 0.25,
): PictureRegion {
  const w = Math.max(1, box.x1 - box.x0);
  const h = Math.max(1, box.y1 - box.y0);
  const x0 = Math.max(0, Math.floor(box.x0 - margin * w));
  const y0 = Math.max(0, Math.floor(box.y0 - margin * h));
  const x1 = Math.min(image.width, Math.max(x0 + 1, Math.ceil(box.x1 + margin * w)));
  const y1 = Math.min(image.height, Math.max(y0 + 1, Math.ceil(box.y1 + margin * h)));
  const scale = side / Math.max(x1 - x0, y1 - y0);
  return {
    x0,
    y0,
    x1,
    y1,
    scale,
    width: Math.max(1, Math.round((x1 - x0) * scale)),
    height: Math.max(1, Math.round((y1 - y0) * scale)),
  };
}

function resample(data: Uint8Array, sourceWidth: number, channels: number, r: PictureRegion): Uint8Array {
  const out = new Uint8Array(r.width * r.height * channels);
  for (let y = 0; y < r.height; y++) {
    const sy = Math.min(r.y1 - 1, r.y0 + Math.floor(y / r.scale));
    for (let x = 0; x < r.width; x++) {
      const sx = Math.min(r.x1 - 1, r.x0 + Math.floor(x / r.scale));
      const from = (sy * sourceWidth + sx) * channels;
      out.set(data.subarray(from, from + channels), (y * r.width + x) * channels);
    }
  }
  return out;
}

export function regionImage(image: RgbImage, r: PictureRegion): RgbImage {
  return { width: r.width, height: r.height, data: resample(image.data, image.width, 3, r) };
}

export function regionMask(mask: BinaryMask, r: PictureRegion): BinaryMask {
  return { width: r.width, height: r.height, data: resample(mask.data, mask.width, 1, r) };
}

/** An image point (index space: integer = pixel centre) in picture coordinates. */
export function toPicture(r: PictureRegion, [x, y]: Point): Point {
  return [(x + 0.5 - r.x0) * r.scale - 0.5, (y + 0.5 - r.y0) * r.scale - 0.5];
}

/** A rectangle outline `thickness` pixels wide, drawn into a copy of `image`. */
export function drawRectangle(
  image: RgbImage,
  a: Point,
  b: Point,
  colour: readonly [number, number, number],
  thickness = 1,
): RgbImage {
  const out = new Uint8Array(image.data);
  const { width: W, height: H } = image;
  const xa = Math.round(Math.min(a[0], b[0]));
  const ya = Math.round(Math.min(a[1], b[1]));
  const xb = Math.round(Math.max(a[0], b[0]));
  const yb = Math.round(Math.max(a[1], b[1]));
  const put = (x: number, y: number) => {
    if (x >= 0 && y >= 0 && x < W && y < H) out.set(colour, (y * W + x) * 3);
  };
  for (let t = 0; t < thickness; t++) {
    for (let x = xa - t; x <= xb + t; x++) {
      put(x, ya - t);
      put(x, yb + t);
    }
    for (let y = ya - t; y <= yb + t; y++) {
      put(xa - t, y);
      put(xb + t, y);
    }
  }
  return { ...image, data: out };
}
