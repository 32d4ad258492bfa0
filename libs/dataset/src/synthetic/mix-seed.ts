function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Mixes several integers (a dataset seed and an image index, a job seed and a step) into one
 * well-spread 32-bit seed for the generator (`Rng` of @exits/graph): neighbouring inputs give
 * unrelated streams, and integers above 2³² keep their high bits.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const next = splitmix32((h ^ (p >>> 0)) >>> 0);
    h = next() ^ Math.imul(h, 0x01000193);
    const hi = Math.floor(p / 2 ** 32);
    if (hi !== 0) h = splitmix32((h ^ hi) >>> 0)();
  }
  return h >>> 0;
}
