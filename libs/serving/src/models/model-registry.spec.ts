// The registry finds versions by looking at the directory, loads once, answers UNAVAILABLE while
// loading, picks up a newly published version without a restart, and releases a superseded
// version's cached graphs only when the last call using it has ended.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { initExtractorParams, loadModel, saveModel } from "@exits/exits";
import { DomainError } from "@exits/platform";
import { DataPaths } from "../paths/data-paths.js";
import { type ModelLoader, ModelRegistry } from "./model-registry.js";
import { tinyGeneratorConfig, writeTinyGenerator } from "./testing/tiny-generator.js";

function statusOf(error: unknown): string {
  return error instanceof DomainError ? error.statusKind : `not a DomainError: ${error}`;
}

/** A loader that waits for `open()` before loading (the "slow loader hook"). */
function gatedLoader(): { loader: ModelLoader; open: () => void; calls: string[] } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const calls: string[] = [];
  return {
    calls,
    open,
    loader: async (dir, kind) => {
      calls.push(dir);
      await gate;
      return loadModel(dir, kind);
    },
  };
}

async function dataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "exits-registry-"));
}

describe("ModelRegistry", () => {
  test("servable (health): false only while a default model exists and loads; true when there is none", async () => {
    const root = await dataDir();
    const servable: boolean[] = [];
    const gated = gatedLoader();
    const options = {
      paths: new DataPaths(root),
      kind: "generator" as const,
      defaultModel: "models/generator",
      loader: gated.loader,
      pollMs: 20,
      onServableChange: (s: boolean) => servable.push(s),
    };
    const empty = new ModelRegistry(options);
    empty.start();
    for (let i = 0; i < 100 && servable.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(servable, [true], "nothing to wait for");
    assert.equal(empty.isReady(), false);
    await writeTinyGenerator(root, "models/generator/v1", 1);
    for (let i = 0; i < 100 && servable.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(servable, [true, false], "a default appeared and is loading");
    gated.open();
    for (let i = 0; i < 200 && servable.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(servable, [true, false, true]);
    assert.equal(empty.isServable(), true);
    await empty.close();
  });

  test("UNAVAILABLE while loading, then a lease; readiness follows the default model", async () => {
    const root = await dataDir();
    await writeTinyGenerator(root, "models/generator/v1", 1);
    const gated = gatedLoader();
    const readiness: boolean[] = [];
    const loads: number[] = [];
    const registry = new ModelRegistry({
      paths: new DataPaths(root),
      kind: "generator",
      defaultModel: "models/generator",
      loader: gated.loader,
      pollMs: 0,
      onReadyChange: (r) => readiness.push(r),
      onLoad: (s) => loads.push(s),
    });
    assert.equal(registry.isReady(), false);
    await assert.rejects(registry.acquire("model", ""), (e) => statusOf(e) === "unavailable");
    const info = await registry.describe("model", "");
    assert.equal(info.ready, false);
    assert.equal(info.clientPath, "models/generator/v1");
    gated.open();
    await registry.whenReady();
    assert.equal(registry.isReady(), true);
    assert.deepEqual(readiness, [true]);
    assert.equal(loads.length, 1);
    const lease = await registry.acquire("model", "");
    assert.equal(lease.version, "v1");
    assert.equal(lease.clientPath, "models/generator/v1");
    assert.match(lease.sha256, /^[0-9a-f]{64}$/);
    assert.equal(lease.config.crop.size, tinyGeneratorConfig().crop.size);
    assert.ok(lease.parameters.size > 0);
    // Loaded once, however many calls.
    const again = await registry.acquire("model", "models/generator");
    assert.equal(gated.calls.length, 1);
    lease.release();
    again.release();
    await registry.close();
  });

  test("a new version is picked up without restart; v1 stays selectable; v1's graphs released when its last call ends", async () => {
    const root = await dataDir();
    await writeTinyGenerator(root, "models/generator/v1", 1);
    const registry = new ModelRegistry({
      paths: new DataPaths(root),
      kind: "generator",
      defaultModel: "models/generator",
      pollMs: 0,
    });
    const v1 = await registry.acquire("model", "", { wait: true });
    const released: string[] = [];
    const graph = await v1.cached(
      "graph",
      async () => "v1-graph",
      async (g) => {
        released.push(g);
      },
    );
    assert.equal(graph, "v1-graph");
    // Shared by every lease of the version.
    assert.equal(await v1.cached("graph", async () => "other"), "v1-graph");

    await writeTinyGenerator(root, "models/generator/v2", 2);
    // While v2 loads, unpinned calls keep getting v1.
    const during = await registry.acquire("model", "");
    assert.equal(during.version, "v1");
    during.release();
    const v2 = await registry.acquire("model", "", { wait: true });
    assert.equal(v2.version, "v2");
    assert.notEqual(v2.sha256, v1.sha256);
    assert.deepEqual(released, [], "v1 is still held by a call");
    v1.release();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(released, ["v1-graph"], "v1 released once idle");

    // Pinning v1 by path loads it again (UNAVAILABLE meanwhile), and it stays while v2 is newest.
    await assert.rejects(registry.acquire("model", "models/generator/v1"), (e) => statusOf(e) === "unavailable");
    const pinned = await registry.acquire("model", "models/generator/v1", { wait: true });
    assert.equal(pinned.version, "v1");
    assert.equal(pinned.sha256, v1.sha256);
    pinned.release();
    const pinnedAgain = await registry.acquire("model", "models/generator/v1");
    assert.equal(pinnedAgain.version, "v1");
    pinnedAgain.release();
    v2.release();
    await registry.close();
  });

  test("a half-published version (no manifest yet) is ignored until complete", async () => {
    const root = await dataDir();
    await writeTinyGenerator(root, "models/generator/v1", 1);
    await mkdir(join(root, "models/generator/v2"));
    const registry = new ModelRegistry({
      paths: new DataPaths(root),
      kind: "generator",
      defaultModel: "models/generator",
      pollMs: 0,
    });
    const a = await registry.acquire("model", "", { wait: true });
    assert.equal(a.version, "v1");
    a.release();
    // The manifest lands later; the parent directory's mtime does not change, the rescan must still see it.
    await writeTinyGenerator(root, "models/generator/v2", 2);
    const b = await registry.acquire("model", "", { wait: true });
    assert.equal(b.version, "v2");
    b.release();
    await registry.close();
  });

  test("bad paths are INVALID_ARGUMENT naming the field; absent is NOT_FOUND; another kind is INVALID_ARGUMENT", async () => {
    const root = await dataDir();
    await writeTinyGenerator(root, "models/generator", 1);
    const c = tinyGeneratorConfig();
    await saveModel(join(root, "models/extractor"), initExtractorParams(c, 1), {
      kind: "extractor",
      config: c,
      training: {},
      inputs: {},
    });
    const outside = await dataDir();
    await writeTinyGenerator(outside, "g", 1);
    await symlink(join(outside, "g"), join(root, "models/escape"));
    await writeFile(join(root, "models/not-a-dir"), "x");
    const registry = new ModelRegistry({
      paths: new DataPaths(root),
      kind: "generator",
      defaultModel: "models/generator",
      pollMs: 0,
    });
    const expectInvalid = async (model: string) =>
      assert.rejects(registry.acquire("model", model), (e: unknown) => {
        assert.equal(statusOf(e), "invalid_argument", `${model}: ${e}`);
        assert.match((e as Error).message, /^model: /);
        return true;
      });
    await expectInvalid("/etc");
    await expectInvalid("../x");
    await expectInvalid("models/escape");
    await expectInvalid("models/extractor");
    for (const model of ["models/none", "models/not-a-dir", "models/generator/v9"])
      await assert.rejects(registry.acquire("model", model), (e) => statusOf(e) === "not_found");
    // An unversioned model directory is itself the model.
    const lease = await registry.acquire("model", "", { wait: true });
    assert.equal(lease.version, "");
    assert.equal(lease.clientPath, "models/generator");
    lease.release();
    await registry.close();
  });

  test("readiness: NOT_SERVING with no default model, SERVING once one is published (poll)", async () => {
    const root = await dataDir();
    const readiness: boolean[] = [];
    const registry = new ModelRegistry({
      paths: new DataPaths(root),
      kind: "generator",
      defaultModel: "models/generator",
      pollMs: 20,
      onReadyChange: (r) => readiness.push(r),
    });
    registry.start();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(registry.isReady(), false);
    await writeTinyGenerator(root, "models/generator/v1", 1);
    for (let i = 0; i < 200 && !registry.isReady(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(registry.isReady(), true);
    assert.deepEqual(readiness, [true]);
    await registry.close();
  });
});
