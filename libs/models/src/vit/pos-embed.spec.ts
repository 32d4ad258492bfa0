import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { Rng } from "@exits/graph";
import { resizePosEmbed } from "./pos-embed.js";

const probe = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
const noTorch = probe.status === 0 ? false : "Debian python3-torch is not importable by /usr/bin/python3";

describe("resizePosEmbed", () => {
  test("same grid is the identity; the class token is kept", () => {
    const rng = new Rng(1);
    const t = Float32Array.from({ length: (1 + 9) * 4 }, () => rng.normal());
    const same = resizePosEmbed(t, 4, 3);
    for (const [i, v] of same.entries()) assert.ok(Math.abs(v - t[i]!) < 1e-6);
    assert.deepEqual(resizePosEmbed(t, 4, 5).subarray(0, 4), t.subarray(0, 4));
    assert.throws(() => resizePosEmbed(new Float32Array(4 * 9), 4, 3), /not 1 \+ a square grid/);
  });

  test("a constant table stays constant (weights sum to one)", () => {
    const t = new Float32Array((1 + 16) * 2).fill(0.5);
    for (const antialias of [true, false])
      for (const to of [7, 3])
        for (const v of resizePosEmbed(t, 2, to, { antialias })) assert.ok(Math.abs(v - 0.5) < 1e-6);
  });

  test("matches torch's bicubic interpolate (align_corners=False), antialiased or not, up and down", {
    skip: noTorch,
  }, () => {
    const rng = new Rng(2);
    const dim = 3;
    const from = 14;
    const t = Float32Array.from({ length: (1 + from * from) * dim }, () => rng.normal());
    for (const antialias of [true, false])
      for (const to of [32, 8, 3]) {
        const script = `
import json, sys, torch, torch.nn.functional as F
t = torch.tensor(json.loads(sys.argv[1]), dtype=torch.float32).reshape(1, -1, ${dim})
g = t[:, 1:].reshape(1, ${from}, ${from}, ${dim}).permute(0, 3, 1, 2)
g = F.interpolate(g, size=(${to}, ${to}), mode="bicubic", align_corners=False, antialias=${antialias ? "True" : "False"})
print(json.dumps(torch.cat([t[:, :1], g.permute(0, 2, 3, 1).reshape(1, -1, ${dim})], 1).flatten().tolist()))`;
        const run = spawnSync("/usr/bin/python3", ["-c", script, JSON.stringify([...t])], { encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const want = JSON.parse(run.stdout) as number[];
        const got = resizePosEmbed(t, dim, to, { antialias });
        assert.equal(got.length, want.length);
        for (const [i, v] of got.entries())
          assert.ok(Math.abs(v - want[i]!) < 1e-5, `antialias ${antialias}, ${to}: [${i}] ${v} vs ${want[i]}`);
      }
  });
});
