import { MaskInputError, showValue } from "./mask-input-error.js";
import type { RleMask } from "./mask-types.js";
import { countsFromString } from "./rle-string.js";

// Every RLE from outside passes here before any walk over its runs: the aligned-run walks of IoU
// and merge only end when both sequences run out together, so runs that do not cover exactly
// h·w pixels would loop forever (pycocotools' C code does too), and decode would read past the
// mask.

/**
 * Largest mask, in pixels, that the mask functions accept (32768²). pycocotools keeps run
 * lengths in 32-bit `uint`s; the lower bound here also caps what `decodeRle` allocates.
 */
export const MAX_MASK_PIXELS = 2 ** 30;

/** `[height, width]` of a mask size from outside; `field` names it in errors. */
export function checkMaskSize(size: unknown, field = "size"): [height: number, width: number] {
  if (!Array.isArray(size) || size.length !== 2) throw new MaskInputError(field, "is not [height, width]");
  const [h, w] = size as unknown[];
  if (!Number.isSafeInteger(h) || (h as number) < 0 || !Number.isSafeInteger(w) || (w as number) < 0)
    throw new MaskInputError(field, `[${String(h)}, ${String(w)}] is not two non-negative integers`);
  if ((h as number) * (w as number) > MAX_MASK_PIXELS)
    throw new MaskInputError(field, `${h}x${w} exceeds the ${MAX_MASK_PIXELS}-pixel limit`);
  return [h as number, w as number];
}

/**
 * The uncompressed run lengths of an RLE, checked: `size` two non-negative integers, `counts` a
 * compressed string or a list of non-negative integers, the runs covering exactly h·w pixels.
 * Throws `MaskInputError` (fields `${prefix}size`, `${prefix}counts`, `${prefix}counts[i]`).
 */
export function checkedRunLengths(rle: RleMask, prefix = ""): number[] {
  if (typeof rle !== "object" || rle === null) throw new MaskInputError(prefix || "rle", "is not {size, counts}");
  const [h, w] = checkMaskSize(rle.size, `${prefix}size`);
  const field = `${prefix}counts`;
  const raw: unknown = rle.counts;
  let counts: number[];
  if (typeof raw === "string") counts = countsFromString(raw, field);
  else if (Array.isArray(raw)) counts = raw as number[];
  else throw new MaskInputError(field, "is neither a compressed string nor a list of run lengths");
  const total = h * w;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const n: unknown = counts[i];
    if (!Number.isSafeInteger(n) || (n as number) < 0)
      throw new MaskInputError(`${field}[${i}]`, `run length ${showValue(n)} is not a non-negative integer`);
    sum += n as number;
    if (sum > total) throw new MaskInputError(field, `runs cover more than ${h}x${w} = ${total} pixels`);
  }
  if (sum !== total) throw new MaskInputError(field, `runs cover ${sum} pixels, expected ${h}x${w} = ${total}`);
  return counts;
}
