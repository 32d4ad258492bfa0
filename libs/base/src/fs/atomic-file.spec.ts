import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AtomicFile, writeAtomically, writeFileAtomic } from "./atomic-file.js";
import { type DurableFileSystem, nodeFileSystem } from "./durable-file-system.js";

const root = mkdtempSync(join(tmpdir(), "exits-atomic-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const fixture = fileURLToPath(new URL("./fixtures/kill-during-write.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** The real file system, recording every call as "op path" (file operations name the file). */
function recording(fail?: { op: string; nth?: number }) {
  const events: string[] = [];
  const counts = new Map<string, number>();
  const step = (op: string, path: string) => {
    events.push(`${op} ${path}`);
    const k = (counts.get(op) ?? 0) + 1;
    counts.set(op, k);
    if (fail?.op === op && (fail.nth ?? 1) === k) throw new Error(`injected ${op} failure`);
  };
  const fs: DurableFileSystem = {
    async createExclusive(path) {
      step("create", path);
      const file = await nodeFileSystem.createExclusive(path);
      return {
        write: async (data) => {
          step("write", path);
          await file.write(data);
        },
        sync: async () => {
          step("sync", path);
          await file.sync();
        },
        close: async () => {
          step("close", path);
          await file.close();
        },
      };
    },
    rename: async (from, to) => {
      step("rename", `${from} -> ${to}`);
      await nodeFileSystem.rename(from, to);
    },
    remove: async (path) => {
      step("remove", path);
      await nodeFileSystem.remove(path);
    },
    syncDirectory: async (path) => {
      step("syncdir", path);
      await nodeFileSystem.syncDirectory(path);
    },
    makeDirectories: async (path) => {
      step("mkdir", path);
      return nodeFileSystem.makeDirectories(path);
    },
  };
  return { fs, events };
}

const tempOf = (events: string[]) => events.find((e) => e.startsWith("create "))!.slice("create ".length);

describe("atomic writes: the order of file-system calls", () => {
  test("whole buffer: data synced before the rename, directory synced after it", async () => {
    const dir = freshDir();
    const path = join(dir, "a.json");
    const { fs, events } = recording();
    await writeFileAtomic(path, "new", { fs });
    const tmp = tempOf(events);
    assert.deepEqual(events, [
      `mkdir ${dir}`,
      `create ${tmp}`,
      `write ${tmp}`,
      `sync ${tmp}`,
      `close ${tmp}`,
      `rename ${tmp} -> ${path}`,
      `syncdir ${dir}`,
    ]);
    assert.equal(dirname(tmp), dir, "the temporary file is a sibling (same file system, so rename is atomic)");
    assert.notEqual(tmp, path);
    assert.equal(readFileSync(path, "utf8"), "new");
    assert.deepEqual(readdirSync(dir), ["a.json"]);
  });

  test("streaming: many writes, then one sync, rename and directory sync", async () => {
    const dir = freshDir();
    const path = join(dir, "big.bin");
    const { fs, events } = recording();
    const file = await AtomicFile.create(path, { fs });
    for (let i = 0; i < 3; i++) await file.write(new Uint8Array(10).fill(i));
    assert.deepEqual(readdirSync(dir), [basename(file.tempPath)], "nothing visible at the path before commit");
    await file.commit();
    const tmp = tempOf(events);
    assert.deepEqual(events.slice(1), [
      `create ${tmp}`,
      `write ${tmp}`,
      `write ${tmp}`,
      `write ${tmp}`,
      `sync ${tmp}`,
      `close ${tmp}`,
      `rename ${tmp} -> ${path}`,
      `syncdir ${dir}`,
    ]);
    assert.deepEqual(
      [...readFileSync(path)],
      [...Array(30).keys()].map((i) => Math.floor(i / 10)),
    );
  });

  test("parent directories it creates are synced into their own parents after the rename", async () => {
    const dir = freshDir();
    const path = join(dir, "x", "y", "f.txt");
    const { fs, events } = recording();
    await writeFileAtomic(path, "deep", { fs });
    assert.deepEqual(events.slice(-4), [
      `rename ${tempOf(events)} -> ${path}`,
      `syncdir ${join(dir, "x", "y")}`,
      `syncdir ${join(dir, "x")}`,
      `syncdir ${dir}`,
    ]);
    assert.equal(readFileSync(path, "utf8"), "deep");
  });

  test("two writers of one path never share a temporary file", async () => {
    const dir = freshDir();
    const path = join(dir, "shared.txt");
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(100_000));
    const runs = contents.map(() => recording());
    await Promise.all(contents.map((c, i) => writeFileAtomic(path, c, { fs: runs[i]!.fs })));
    assert.equal(new Set(runs.map((r) => tempOf(r.events))).size, 8);
    assert.ok(contents.includes(readFileSync(path, "utf8")), "the file is one writer's content, whole");
    assert.deepEqual(readdirSync(dir), ["shared.txt"]);
  });
});

describe("atomic writes: failures leave the old file and no temporary file", () => {
  for (const op of ["write", "sync", "rename"]) {
    test(`a failing ${op}`, async () => {
      const dir = freshDir();
      const path = join(dir, "keep.txt");
      writeFileSync(path, "old");
      const { fs, events } = recording({ op, nth: op === "write" ? 2 : 1 });
      await assert.rejects(
        writeAtomically(
          path,
          async (f) => {
            await f.write("new ");
            await f.write("content");
          },
          { fs },
        ),
        new RegExp(`injected ${op} failure`),
      );
      assert.ok(events.includes(`remove ${tempOf(events)}`), events.join("\n"));
      assert.equal(readFileSync(path, "utf8"), "old");
      assert.deepEqual(readdirSync(dir), ["keep.txt"]);
    });
  }

  test("abort discards the written bytes; writing after abort or commit is refused", async () => {
    const dir = freshDir();
    const path = join(dir, "a.txt");
    writeFileSync(path, "old");
    const file = await AtomicFile.create(path);
    await file.write("new");
    await file.abort();
    assert.equal(readFileSync(path, "utf8"), "old");
    assert.deepEqual(readdirSync(dir), ["a.txt"]);
    await assert.rejects(file.write("x"), /write after abort/);
    const done = await AtomicFile.create(path);
    await done.commit();
    await assert.rejects(done.write("x"), /write after commit/);
    assert.equal(readFileSync(path, "utf8"), "");
  });
});

describe("atomic writes: a process killed (SIGKILL) mid-way leaves the old content", () => {
  const bytes = 4 << 20;
  const run = (path: string, api: string, point: string) =>
    spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "./tools/register.mjs", fixture, path, api, point, String(bytes)],
      { cwd: repoRoot, encoding: "utf8" },
    );

  for (const api of ["buffer", "stream"]) {
    for (const point of ["mid-write", "before-rename"]) {
      test(`${api} writer killed ${point}`, () => {
        const dir = freshDir();
        const path = join(dir, "data.bin");
        const old = new Uint8Array(bytes).fill(0x4f);
        writeFileSync(path, old);
        const r = run(path, api, point);
        assert.equal(r.signal, "SIGKILL", r.stderr);
        assert.ok(readFileSync(path).equals(old), "the old content is intact");
        // The same run without the kill does replace it: the kill is what kept the old file.
        const ok = run(path, api, "never");
        assert.equal(ok.status, 0, ok.stderr);
        assert.ok(readFileSync(path).every((b) => b === 0x4e));
      });
    }
  }

  test("a writer killed at a random moment leaves some complete version", async () => {
    const dir = freshDir();
    const path = join(dir, "v.bin");
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "./tools/register.mjs", fixture, path, "loop", "-", String(1 << 20)],
      { cwd: repoRoot },
    );
    let last = 0;
    child.stdout.on("data", (b: Buffer) => {
      last = Math.max(last, ...b.toString().trim().split("\n").map(Number));
    });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (last >= 3) {
          clearInterval(poll);
          setTimeout(() => resolve(), Math.random() * 20);
        }
      }, 2);
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const got = readFileSync(path);
    assert.equal(got.length, 1 << 20);
    assert.ok(got[0]! >= 3 && got.every((b) => b === got[0]), "one version, whole");
  });
});
