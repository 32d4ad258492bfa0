// The compressed COCO `counts` string (maskApi.c rleToString / rleFrString): a LEB128-like code
// with 5 payload bits per character (offset 48), 0x20 = "more groups follow", and the last
// group's 0x10 bit as the sign. From the fourth run on, the value written is the difference to
// the run two places back (runs of one colour change slowly).
// Arithmetic is done on plain numbers (exact up to 2^53) rather than 32-bit ints so that run
// lengths ≥ 2^31 behave like C's `long`.

import { MaskInputError } from "./mask-input-error.js";

const TWO_POW_32 = 2 ** 32;

/** Run lengths → compressed string, byte-identical to pycocotools' rleToString. */
export function countsToString(counts: ArrayLike<number>): string {
  const chars: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      const low = ((x % 32) + 32) % 32;
      x = (x - low) / 32; // arithmetic shift right by 5
      more = low & 0x10 ? x !== -1 : x !== 0;
      chars.push((more ? low | 0x20 : low) + 48);
    }
  }
  // String.fromCharCode with a spread overflows the stack for very long masks: chunk it.
  let out = "";
  for (let i = 0; i < chars.length; i += 8192) out += String.fromCharCode(...chars.slice(i, i + 8192));
  return out;
}

/**
 * Compressed string → run lengths, as pycocotools' rleFrString (values wrap like C's uint). A
 * string that ends inside a value throws `MaskInputError` (`field` names it); whether the runs
 * fit a mask is `checkedRunLengths`' business.
 */
export function countsFromString(s: string, field = "counts"): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new MaskInputError(field, `compressed string ends inside a value at character ${p}`);
      const c = ((s.charCodeAt(p) - 48) << 24) >> 24; // C `char`: signed 8-bit
      // Groups from bit 35 on are multiples of 2^32 and vanish in the final wrap: skipping them
      // keeps x exact however long a (malformed) value is.
      if (k < 7) x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10 && k < 7) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    counts.push(((x % TWO_POW_32) + TWO_POW_32) % TWO_POW_32);
  }
  return counts;
}
