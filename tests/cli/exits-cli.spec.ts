// The `exits` command as a newcomer meets it: --help that lists the stages, the demo end to end on
// a tiny model, and a bad dataset answered with one line naming the file, annotation and field,
// with nothing half-written.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createRgbImage, writeImage } from "@exits/dataset";

const repo = join(import.meta.dirname, "..", "..");
const exits = (args: string[]) =>
  spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "./tools/register.mjs", "libs/cli/src/main.ts", ...args],
    {
      cwd: repo,
      encoding: "utf8",
      timeout: 300_000,
    },
  );
const TINY = [
  "--crop-size",
  "32",
  "--patch",
  "8",
  "--embed-dim",
  "16",
  "--depth",
  "1",
  "--heads",
  "2",
  "--epochs",
  "1",
  "--threads",
  "1",
];

describe("exits CLI", () => {
  test("--help names every stage", () => {
    const r = exits(["--help"]);
    assert.equal(r.status, 0, r.stderr);
    for (const c of [
      "demo",
      "pipeline",
      "train-extractor",
      "retrieve",
      "sweep",
      "train-generator",
      "export",
      "evaluate",
      "serve",
    ])
      assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`), `${c} listed`);
    const p = exits(["pipeline", "--help"]);
    assert.match(p.stdout, /--simulate-extreme-points/);
    assert.match(p.stdout, /--budget/);
  });

  test("demo on a tiny model: export, manifest, evaluation and report", { timeout: 300_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), "exits-demo-"));
    const r = exits(["demo", "--out", out, "--synthetic-images", "3", ...TINY]);
    assert.equal(r.status, 0, r.stderr);
    const exported = join(out, "export", "annotations.exits.json");
    assert.ok(existsSync(exported), "export written");
    const coco = JSON.parse(readFileSync(exported, "utf8"));
    assert.ok(
      coco.annotations.length > 0 &&
        coco.annotations.every((a: { segmentation: { counts: unknown } }) => typeof a.segmentation.counts === "string"),
    );
    assert.ok(existsSync(join(out, "export", "annotations.exits.manifest.json")));
    assert.ok(existsSync(join(out, "evaluation.json")));
    assert.ok(existsSync(join(out, "report.html")));
    assert.match(r.stdout, /report\s+\S+report\.html/);
    assert.match(r.stdout, /filled box/);
    assert.match(r.stderr, /ETA/, "progress with an ETA on stderr");
  });

  test("a bad dataset: one line naming file, annotation id and field; exit 2; nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "exits-bad-"));
    const file = join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        images: [{ id: 1, file_name: "a.png", width: 10, height: 10 }],
        categories: [{ id: 1, name: "thing" }],
        annotations: [
          {
            id: 77,
            image_id: 1,
            category_id: 1,
            extreme_points: [
              [1, 1],
              [0, 5],
              [3, 9],
            ],
          },
        ],
      }),
    );
    await writeImage(join(dir, "a.png"), createRgbImage(10, 10));
    const out = join(dir, "out");
    const r = exits(["pipeline", "--annotations", file, "--images", dir, "--out", out, ...TINY]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /bad\.json/);
    assert.match(lines[0]!, /77/);
    assert.match(lines[0]!, /extreme_points|point/);
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, "nothing half-written");
  });
});
