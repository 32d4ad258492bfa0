import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { input, Rng } from "@exits/graph";
import { compileGraph, float32 } from "@exits/runtime";
import { dice, milLoss } from "./dice.js";

/** Reference Dice in plain TypeScript, per sample, MAL's ε on each sum of squares. */
function diceRef(x: number[], y: number[], eps = 1e-3): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! ** 2;
    yy += y[i]! ** 2;
  }
  return 1 - (2 * xy) / (xx + eps + (yy + eps));
}

const cpu = { executionProvider: "cpu", intraOpNumThreads: 1 } as const;

describe("losses", () => {
  test("dice: batch mean of MAL's per-sample Dice", async () => {
    const rng = new Rng(5);
    const p = Array.from({ length: 2 * 6 }, () => rng.next());
    const t = Array.from({ length: 2 * 6 }, () => (rng.next() < 0.5 ? 1 : 0));
    const g = await compileGraph({ d: dice(input("p", [2, 6]), input("t", [2, 6])) }, { config: cpu });
    const got = (await g.run({ p: float32(p, [2, 6]), t: float32(t, [2, 6]) })).d!.data[0] as number;
    const want = (diceRef(p.slice(0, 6), t.slice(0, 6)) + diceRef(p.slice(6), t.slice(6))) / 2;
    assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
  });

  test("milLoss: Dice of column maxima plus Dice of row maxima", async () => {
    const rng = new Rng(6);
    const [b, h, w] = [2, 4, 5];
    const m = Array.from({ length: b * h * w }, () => rng.next());
    const box = Array.from({ length: b * h * w }, (_, i) => {
      const y = Math.floor(i / w) % h;
      const x = i % w;
      return y >= 1 && y <= 2 && x >= 1 && x <= 3 ? 1 : 0;
    });
    const g = await compileGraph({ l: milLoss(input("m", [b, h, w]), input("box", [b, h, w])) }, { config: cpu });
    const got = (await g.run({ m: float32(m, [b, h, w]), box: float32(box, [b, h, w]) })).l!.data[0] as number;
    const proj = (a: number[], s: number, byColumn: boolean) =>
      Array.from({ length: byColumn ? w : h }, (_, k) => {
        let best = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < (byColumn ? h : w); j++)
          best = Math.max(best, a[s * h * w + (byColumn ? j * w + k : k * w + j)]!);
        return best;
      });
    let want = 0;
    for (let s = 0; s < b; s++) {
      want += diceRef(proj(m, s, true), proj(box, s, true)) / b + diceRef(proj(m, s, false), proj(box, s, false)) / b;
    }
    assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  });
});
