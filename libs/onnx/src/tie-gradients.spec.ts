// Gradients at exact ties, which binary masks have everywhere (0 vs 0, 1 vs 1). The rules, as
// PyTorch has them (derivatives.yaml of torch 1.13 and later):
// - maximum(a, b) / minimum(a, b): where a == b each side gets half the gradient
//   (`at::where(self == other, grad / 2, grad).masked_fill_(self < other, 0)`);
// - max over axes (torch.amax, and torch.max without a dim): the gradient is shared evenly
//   among the tied maxima (`scale_grad_by_count`). Not torch.max(x, dim), which gives it all to
//   the one index it returns.
// Finite differences agree where they are defined: at a tie of maximum, the central difference
// of one side is exactly ½; for a reduction, moving a non-maximal element changes nothing, and
// moving all tied maxima together moves the max one for one (their shares sum to 1).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import * as g from "@exits/graph";
import { compile } from "./ort-harness.js";

const shape = [2, 3, 4];
const size = 24;
const rng = new g.Rng(2024);
const mask = () => Float64Array.from({ length: size }, () => (rng.chance(0.5) ? 1 : 0));
const a = mask();
const b = mask();
const cotangent = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
const rElem = cotangent(size);
const rAxis1 = cotangent(8);
const rAll = cotangent(1);

type Build = (xs: g.Tensor[]) => g.Tensor;

/** loss = Σ f(xs)·r; returns loss and ∂loss/∂xs from one lowering, and a loss-only runner. */
async function differentiate(build: Build, values: Float64Array[], r: Float64Array, optimize: boolean) {
  const xs = values.map((_, i) => g.input(`x${i}`, shape, "float64"));
  const y = build(xs);
  const loss = g.sum(g.mul(y, g.constant(r, y.shape, "float64")));
  const grads = g.grad(loss, xs);
  const outputs: Record<string, g.Tensor> = { loss };
  grads.forEach((t, i) => {
    outputs[`g${i}`] = t!;
  });
  const compiled = await compile(outputs, { optimize });
  const feeds = (vs: Float64Array[]) => Object.fromEntries(vs.map((v, i) => [`x${i}`, v]));
  const out = await compiled.run(feeds(values));
  return {
    grads: values.map((_, i) => [...(out[`g${i}`] as Float64Array)]),
    loss: async (vs: Float64Array[]) => (await compiled.run(feeds(vs)))["loss"]![0] as number,
  };
}

/** The stated rules, computed directly from the masks. */
function expectedElementwise(which: "maximum" | "minimum"): [number[], number[]] {
  const wins = (x: number, y: number) => (which === "maximum" ? x > y : x < y);
  const share = (x: number, y: number) => (x === y ? 0.5 : wins(x, y) ? 1 : 0);
  return [[...a].map((x, i) => rElem[i]! * share(x, b[i]!)), [...b].map((y, i) => rElem[i]! * share(y, a[i]!))];
}

/** Index of element (i, j, k) and its group for a max over axis 1 (groups i, k) or over all. */
const index = (i: number, j: number, k: number) => (i * 3 + j) * 4 + k;
function expectedMax(axis: 1 | "all"): number[] {
  const group = (i: number, k: number) => (axis === 1 ? i * 4 + k : 0);
  const members = (i: number, k: number) => {
    const out: number[] = [];
    for (let ii = 0; ii < 2; ii++)
      for (let j = 0; j < 3; j++)
        for (let kk = 0; kk < 4; kk++) if (group(ii, kk) === group(i, k)) out.push(index(ii, j, kk));
    return out;
  };
  const r = axis === 1 ? rAxis1 : rAll;
  const grad = new Array<number>(size).fill(0);
  for (let i = 0; i < 2; i++)
    for (let k = 0; k < 4; k++) {
      const m = members(i, k);
      const top = Math.max(...m.map((e) => a[e]!));
      const ties = m.filter((e) => a[e] === top);
      for (const e of ties) grad[e] = r[group(i, k)]! / ties.length;
    }
  return grad;
}

function close(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (const [i, v] of got.entries()) assert.ok(Math.abs(v - want[i]!) <= 1e-12, `${what}[${i}]: ${v} vs ${want[i]}`);
}

const cases: { name: string; build: Build; inputs: Float64Array[]; r: Float64Array; expected: () => number[][] }[] = [
  {
    name: "maximum",
    build: ([x, y]) => g.maximum(x!, y!),
    inputs: [a, b],
    r: rElem,
    expected: () => expectedElementwise("maximum"),
  },
  {
    name: "minimum",
    build: ([x, y]) => g.minimum(x!, y!),
    inputs: [a, b],
    r: rElem,
    expected: () => expectedElementwise("minimum"),
  },
  { name: "max over axis 1", build: ([x]) => g.max(x!, 1), inputs: [a], r: rAxis1, expected: () => [expectedMax(1)] },
  { name: "max over all", build: ([x]) => g.max(x!), inputs: [a], r: rAll, expected: () => [expectedMax("all")] },
];

describe("gradients at exact ties on binary masks", () => {
  test("the masks tie where the rules matter", () => {
    assert.ok([...a].some((x, i) => x === b[i]) && [...a].some((x, i) => x !== b[i]));
  });

  for (const c of cases) {
    for (const optimize of [false, true]) {
      test(`${c.name}: the PyTorch rule${optimize ? " (optimised lowering)" : ""}`, async () => {
        const { grads } = await differentiate(c.build, c.inputs, c.r, optimize);
        for (const [i, want] of c.expected().entries()) close(grads[i]!, want, `∂/∂x${i}`);
      });
    }
  }

  test("maximum / minimum: each side's central difference at a tie is the half share", async () => {
    const eps = 1e-3;
    for (const c of cases.slice(0, 2)) {
      const { grads, loss } = await differentiate(c.build, c.inputs, c.r, false);
      for (let side = 0; side < 2; side++) {
        for (let e = 0; e < size; e++) {
          const shifted = (d: number) =>
            c.inputs.map((v, s) => (s === side ? v.map((x, k) => (k === e ? x + d : x)) : v));
          const fd = ((await loss(shifted(eps))) - (await loss(shifted(-eps)))) / (2 * eps);
          assert.ok(Math.abs(fd - grads[side]![e]!) < 1e-9, `${c.name} x${side}[${e}]: fd ${fd} vs ${grads[side]![e]}`);
        }
      }
    }
  });

  test("max: non-maximal elements have zero difference; moving all tied maxima together matches Σ shares", async () => {
    const eps = 1e-3;
    for (const c of cases.slice(2)) {
      const { grads, loss } = await differentiate(c.build, c.inputs, c.r, false);
      const grad = grads[0]!;
      const at = async (d: Float64Array) => loss([a.map((x, k) => x + d[k]!)]);
      const groups = c.name.endsWith("all") ? [[...Array(size).keys()]] : [];
      if (!c.name.endsWith("all"))
        for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) groups.push([0, 1, 2].map((j) => index(i, j, k)));
      for (const members of groups) {
        const top = Math.max(...members.map((e) => a[e]!));
        const direction = new Float64Array(size);
        for (const e of members) {
          if (a[e] === top) direction[e] = 1;
          else {
            const one = new Float64Array(size);
            one[e] = eps;
            const fd = ((await at(one)) - (await at(one.map((v) => -v)))) / (2 * eps);
            assert.ok(Math.abs(fd) < 1e-12 && grad[e] === 0, `${c.name}: non-maximal ${e}`);
          }
        }
        const fd = ((await at(direction.map((v) => v * eps))) - (await at(direction.map((v) => -v * eps)))) / (2 * eps);
        const along = members.reduce((s, e) => s + direction[e]! * grad[e]!, 0);
        assert.ok(Math.abs(fd - along) < 1e-9, `${c.name}: along the ties fd ${fd} vs ${along}`);
      }
    }
  });

  const torch = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  test("PyTorch computes the same gradients on the same masks", {
    skip: torch.status === 0 ? false : "Debian python3-torch is not importable by /usr/bin/python3",
  }, async () => {
    const script = `
import json, sys, torch
d = json.load(sys.stdin)
t = lambda k: torch.tensor(d[k], dtype=torch.float64).reshape(2, 3, 4)
out = {}
for name, f, r in [("maximum", torch.maximum, "rElem"), ("minimum", torch.minimum, "rElem")]:
    a, b = t("a").requires_grad_(), t("b").requires_grad_()
    (f(a, b) * torch.tensor(d[r], dtype=torch.float64).reshape(2, 3, 4)).sum().backward()
    out[name] = [a.grad.flatten().tolist(), b.grad.flatten().tolist()]
a = t("a").requires_grad_()
(torch.amax(a, dim=1) * torch.tensor(d["rAxis1"], dtype=torch.float64).reshape(2, 4)).sum().backward()
out["max over axis 1"] = [a.grad.flatten().tolist()]
a = t("a").requires_grad_()
(torch.max(a) * d["rAll"][0]).backward()
out["max over all"] = [a.grad.flatten().tolist()]
print(json.dumps(out))
`;
    const input = JSON.stringify({ a: [...a], b: [...b], rElem: [...rElem], rAxis1: [...rAxis1], rAll: [...rAll] });
    const run = spawnSync("/usr/bin/python3", ["-c", script], { input, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const reference = JSON.parse(run.stdout) as Record<string, number[][]>;
    for (const c of cases) {
      const { grads } = await differentiate(c.build, c.inputs, c.r, true);
      for (const [i, want] of reference[c.name]!.entries()) close(grads[i]!, want, `${c.name} vs torch, ∂/∂x${i}`);
    }
  });
});
