import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MemoryLogger } from "@exits/base";
import { float32, int64 } from "../tensor/host-tensor.js";
import { CheckpointStore } from "./checkpoint-store.js";

const root = mkdtempSync(join(tmpdir(), "exits-ckpt-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `c${n++}`);
const fixture = fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

function data(step: number) {
  return {
    step,
    parameters: { "blocks.0.attn.qkv.weight": float32([step, 2, 3, 4], [2, 2]), steps: int64([BigInt(step)], [1]) },
    optimizerState: { "m.blocks.0.attn.qkv.weight": float32([0.5, 0, 0, step], [2, 2]) },
    config: { lr: 1e-3, model: { depth: 2 } },
    extra: { schedule: step / 10 },
  };
}

/** Runs the crash-writer fixture; it SIGKILLs itself at the given point. */
function crashAt(dir: string, step: number, file: string) {
  return spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "./tools/register.mjs", fixture, dir, String(step), file],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  );
}

describe("checkpoints", () => {
  test("save then loadLatest returns parameters, optimiser state, step, config and extra", async () => {
    const store = new CheckpointStore(fresh());
    await store.save(data(1));
    await store.save(data(7));
    const got = await store.loadLatest();
    assert.ok(got);
    assert.equal(got.step, 7);
    assert.deepEqual(got.parameters.get("blocks.0.attn.qkv.weight"), float32([7, 2, 3, 4], [2, 2]));
    assert.deepEqual(got.parameters.get("steps"), int64([7n], [1]));
    assert.deepEqual(got.optimizerState.get("m.blocks.0.attn.qkv.weight"), float32([0.5, 0, 0, 7], [2, 2]));
    assert.deepEqual(got.config, { lr: 1e-3, model: { depth: 2 } });
    assert.deepEqual(got.extra, { schedule: 0.7 });
    assert.deepEqual(Object.keys(got.manifest.files).sort(), [
      "optimizer.safetensors",
      "parameters.safetensors",
      "state.json",
    ]);
  });

  test("an empty or missing directory has no checkpoint", async () => {
    assert.equal(await new CheckpointStore(fresh()).loadLatest(), undefined);
  });

  test("keeps only the newest `keep` checkpoints", async () => {
    const dir = fresh();
    const store = new CheckpointStore(dir, { keep: 2 });
    for (const s of [1, 2, 3, 4]) await store.save(data(s));
    assert.deepEqual(await store.list(), [4, 3]);
    assert.deepEqual(readdirSync(dir).sort(), ["step-000000003", "step-000000004"]);
  });

  test("re-saving a step replaces it", async () => {
    const store = new CheckpointStore(fresh());
    await store.save(data(5));
    await store.save({ ...data(5), config: { lr: 2 } });
    assert.deepEqual((await store.loadLatest())?.config, { lr: 2 });
  });

  test("a damaged newest checkpoint is skipped with a structured warning; the previous one loads", async () => {
    const dir = fresh();
    const logger = new MemoryLogger();
    const store = new CheckpointStore(dir, { logger });
    await store.save(data(1));
    await store.save(data(2));
    truncateSync(join(dir, "step-000000002", "parameters.safetensors"), 10);
    const got = await store.loadLatest();
    assert.equal(got?.step, 1);
    const warn = logger.records.find((r) => r.level === "warn");
    assert.equal(warn?.fields.step, 2);
    assert.match(String(warn?.fields.reason), /parameters\.safetensors has 10 bytes/);
  });

  test("flipped bytes are caught by the SHA-256 in the manifest", async () => {
    const dir = fresh();
    const store = new CheckpointStore(dir);
    await store.save(data(1));
    await store.save(data(2));
    const state = join(dir, "step-000000002", "state.json");
    const text = (await import("node:fs")).readFileSync(state, "utf8");
    writeFileSync(state, text.replace('"lr": 0.001', '"lr": 0.002'));
    assert.equal((await store.loadLatest())?.step, 1);
  });

  test("a step directory without a manifest (never completed) is ignored", async () => {
    const dir = fresh();
    const store = new CheckpointStore(dir);
    await store.save(data(3));
    const partial = join(dir, "step-000000004");
    (await import("node:fs")).mkdirSync(partial);
    writeFileSync(join(partial, "parameters.safetensors"), "garbage");
    assert.equal((await store.loadLatest())?.step, 3);
  });

  for (const file of ["parameters.safetensors", "optimizer.safetensors", "state.json", "manifest.json"]) {
    test(`a process killed (SIGKILL) right after writing ${file} of step 3 leaves step 2 intact and loadable`, async () => {
      const dir = fresh();
      const run = crashAt(dir, 3, file);
      assert.equal(run.signal, "SIGKILL", run.stderr);
      assert.deepEqual(run.stdout.trim().split("\n"), ["1", "2"]);
      assert.ok(
        readdirSync(dir).some((d) => d.startsWith(".partial-step-000000003")),
        "the interrupted save left its temporary directory",
      );
      const store = new CheckpointStore(dir, { keep: 100 });
      const got = await store.loadLatest();
      assert.equal(got?.step, 2);
      assert.ok((got!.parameters.get("w")!.data as Float32Array).every((v) => v === 2));
      assert.ok((got!.optimizerState.get("m.w")!.data as Float32Array).every((v) => v === -2));
      // The next save clears the leftovers.
      await store.save({ ...data(3) });
      assert.ok(!readdirSync(dir).some((d) => d.startsWith(".partial-")));
    });
  }

  test("a writer killed at a random moment always leaves a complete latest checkpoint", async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ["--conditions=source", "--import", "./tools/register.mjs", fixture, dir], {
      cwd: repoRoot,
    });
    let last = 0;
    child.stdout.on("data", (b: Buffer) => {
      last = Math.max(last, ...b.toString().trim().split("\n").map(Number));
    });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (last >= 3) {
          clearInterval(poll);
          // A random delay lands the kill anywhere inside the next save.
          setTimeout(() => {
            child.kill("SIGKILL");
            resolve();
          }, Math.random() * 30);
        }
      }, 2);
    });
    await new Promise((r) => child.once("exit", r));
    const got = await new CheckpointStore(dir, { keep: 100 }).loadLatest();
    assert.ok(got && got.step >= 3, `latest ${got?.step}`);
    assert.ok((got.parameters.get("w")!.data as Float32Array).every((v) => v === got.step));
  });
});
