import type { Colour } from "../synthetic/textures.js";

/** The i-th of a sequence of well-separated saturated colours (golden-angle hue steps). */
export function paletteColour(i: number): Colour {
  const h = (i * 137.508) % 360;
  const s = 0.85;
  const v = 0.95;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 60
      ? [c, x, 0]
      : h < 120
        ? [x, c, 0]
        : h < 180
          ? [0, c, x]
          : h < 240
            ? [0, x, c]
            : h < 300
              ? [x, 0, c]
              : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}
