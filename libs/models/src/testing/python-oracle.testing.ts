// Test support only: runs the independent Python oracles of libs/models/test with Debian's
// /usr/bin/python3 and says, as a node:test skip reason, when a module they need is missing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type HostTensor, readSafetensors, writeSafetensors } from "@exits/runtime";

const python = "/usr/bin/python3";

/** false when /usr/bin/python3 imports `module`, else why not (a node:test `skip` value). */
export function pythonLacks(module: "numpy" | "torch"): false | string {
  const probe = spawnSync(python, ["-c", `import ${module}`], { encoding: "utf8" });
  if (probe.status === 0) return false;
  const why = (probe.stderr || probe.error?.message || "").trim().split("\n").pop();
  return `Debian python3-${module} is not importable by ${python} (${why})`;
}

/**
 * Writes `tensors` (and `job` as JSON metadata) to a safetensors file, runs
 * `test/<script> <name> in out` and returns what the oracle wrote.
 */
export async function runOracle(
  script: "numpy_oracle.py" | "method_oracle.py",
  name: string,
  tensors: Record<string, HostTensor>,
  job: object = {},
): Promise<Map<string, HostTensor>> {
  const dir = mkdtempSync(join(tmpdir(), "exits-oracle-"));
  try {
    const src = join(dir, "in.safetensors");
    const dst = join(dir, "out.safetensors");
    await writeSafetensors(src, new Map(Object.entries(tensors)), { metadata: { job: JSON.stringify(job) } });
    const path = fileURLToPath(new URL(`../../test/${script}`, import.meta.url));
    const r = spawnSync(python, [path, name, src, dst], { encoding: "utf8" });
    assert.equal(r.status, 0, `${script} ${name} failed: ${r.stderr || r.error?.message}`);
    return (await readSafetensors(dst)).tensors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a − b| / max |b|: float32 parity of values whose scale varies from tensor to tensor. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  const d = maxAbsDiff(a, b);
  return scale === 0 ? d : d / scale;
}

export const cpu = { executionProvider: "cpu", intraOpNumThreads: 1 } as const;
