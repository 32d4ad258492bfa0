/**
 * The one seeded generator (Mulberry32) of the project: parameter initialisation, synthetic
 * datasets, crop margins, augmentation and test inputs reproduce across runs and machines.
 * Math.random is never used. Not for cryptography.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). Bound, so `rng.next` can be handed on as a `() => number` source. */
  readonly next = (): number => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Normal with the given std, redrawn outside ±2 std (timm's trunc_normal_ with a = -2σ, b = 2σ). */
  truncNormal(std: number): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= 2) return z * std;
    }
  }

  /** Uniform integer in [0, n) (the only integer draw: an inclusive range [lo, hi] is `lo + int(hi - lo + 1)`). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[this.int(items.length)]!;
  }
}
