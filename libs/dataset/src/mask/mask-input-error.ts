/**
 * A mask value from outside (RLE size or counts, a polygon) that cannot be read: `field` says
 * which part, e.g. `counts[3]`, `size`, `segmentation[0][5]`; `problem` says what is wrong.
 * Every function of the mask module that takes outside data throws this and nothing else for bad
 * input, so callers that know the annotation can wrap it with the file and id.
 */
export class MaskInputError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "MaskInputError";
  }
}

/** A bad value as an error shows it: numbers as JS prints them (NaN, Infinity), the rest as JSON. */
export function showValue(v: unknown): string {
  return typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v));
}
