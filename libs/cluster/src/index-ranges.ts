/**
 * Indexed Job status lists indexes as a compressed, ascending range string: "1,3-5,7" (the
 * format of `status.completedIndexes` and `status.failedIndexes`). The empty string (or an
 * absent field) is the empty set.
 */
export function parseIndexRanges(text: string | undefined): number[] {
  if (text === undefined || text.trim() === "") return [];
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`"${text}" is not an index range list (like "0-2,5")`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`"${part.trim()}" in "${text}" is a descending range`);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The inverse of {@link parseIndexRanges}, as the Job controller writes it: runs of three or more
 * are compressed, two neighbours are not ([0, 1, 2, 5, 7, 8] → "0-2,5,7,8").
 */
export function formatIndexRanges(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(`${sorted[k]}`);
    i = j + 1;
  }
  return parts.join(",");
}
