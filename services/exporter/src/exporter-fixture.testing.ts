import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CocoAnnotation, readCocoAnnotations, writeSyntheticDataset } from "@exits/dataset";
import { exportDataset, loadModel, MaskPredictor, ObjectSet, resolveMethodConfig } from "@exits/exits";
import { writeTinyGenerator } from "@exits/serving";

/** A data directory for exporter tests: a tiny generator, a clean synthetic dataset, a bad copy of it. */
export interface ExportFixture {
  dataDir: string;
  /** Client paths. */
  clean: string;
  bad: string;
  imagesDir: string;
  cleanCount: number;
  /** The crafted bad annotations: id → expected SkipReason name. */
  expectedSkips: Map<number, string>;
}

export async function writeExportFixture(dataDir: string, images = 6): Promise<ExportFixture> {
  await writeTinyGenerator(dataDir, "models/generator", 3);
  const data = await writeSyntheticDataset({
    out: join(dataDir, "data"),
    images,
    seed: 11,
    scene: { width: 64, height: 64, minObjects: 2, maxObjects: 3 },
  });
  const json = JSON.parse(await readFile(data.annotationsFile, "utf8")) as {
    images: { id: number; file_name: string; width: number; height: number }[];
    annotations: CocoAnnotation[];
  };
  const cleanCount = json.annotations.length;
  const a = json.annotations[0]!;
  const { bbox: _b, ...noBox } = a;
  const shift = (dx: number) => a.extreme_points!.map(([x, y]) => [x + dx, y]) as CocoAnnotation["extreme_points"];
  const { extreme_points: _p, ...noPoints } = noBox;
  const realPng = await readFile(join(data.imageDir, json.images[0]!.file_name));
  await writeFile(join(data.imageDir, "garbage.png"), Buffer.from("this is not an image at all"));
  await writeFile(join(data.imageDir, "truncated.png"), realPng.subarray(0, 60));
  json.images.push(
    { id: 101, file_name: "missing.png", width: 64, height: 64 },
    { id: 102, file_name: "garbage.png", width: 64, height: 64 },
    { id: 103, file_name: "truncated.png", width: 64, height: 64 },
    { id: 104, file_name: "../../../outside.png", width: 64, height: 64 },
  );
  const bad: [CocoAnnotation, string][] = [
    [{ ...noPoints, id: 1001 }, "MISSING_EXTREME_POINTS"],
    [{ ...noBox, id: 1002, extreme_points: shift(200) }, "POINT_OUTSIDE_IMAGE"],
    [
      {
        ...noBox,
        id: 1003,
        extreme_points: [
          [10, 10],
          [9, 11],
          [10, 11],
          [11, 11],
        ],
      },
      "DEGENERATE_BOX",
    ],
    [{ ...noBox, id: 1004, image_id: 101 }, "IMAGE_NOT_FOUND"],
    [{ ...noBox, id: 1005, image_id: 102 }, "IMAGE_INVALID"],
    [{ ...noBox, id: 1006, image_id: 103 }, "IMAGE_INVALID"],
    [{ ...noBox, id: 1007, image_id: 999 }, "UNKNOWN_IMAGE"],
    [{ ...noBox, id: 1008, image_id: 104 }, "IMAGE_INVALID"],
  ];
  for (const [annotation] of bad) {
    const { segmentation: _s, ...rest } = annotation;
    json.annotations.push(rest as CocoAnnotation);
  }
  await writeFile(join(dataDir, "data", "bad.json"), JSON.stringify(json));
  await mkdir(join(dataDir, "out"), { recursive: true });
  return {
    dataDir,
    clean: "data/annotations.json",
    bad: "data/bad.json",
    imagesDir: "data/images",
    cleanCount,
    expectedSkips: new Map(bad.map(([x, reason]) => [x.id, reason])),
  };
}

/** exportDataset in process on the same inputs, as the job runs it (threshold 0.5, batch `batch`, CPU). */
export async function referenceExport(f: ExportFixture, output: string, batch = 16): Promise<CocoAnnotation[]> {
  const { manifest, parameters } = await loadModel(join(f.dataDir, "models/generator"), "generator");
  const c = resolveMethodConfig({ export: { threshold: 0.5, batch }, seed: 0 }, manifest.config);
  const set = await ObjectSet.read(join(f.dataDir, f.clean), join(f.dataDir, f.imagesDir), { points: "annotation" });
  const predictor = await MaskPredictor.create(c, parameters, batch, {
    runtime: { executionProvider: "cpu", intraOpNumThreads: 1 },
  });
  try {
    await exportDataset(set, predictor, c, { output, manifest: {} });
  } finally {
    await predictor.release();
  }
  return readAll(output);
}

export async function readAll(file: string): Promise<CocoAnnotation[]> {
  const out: CocoAnnotation[] = [];
  for await (const a of readCocoAnnotations(file)) out.push(a);
  return out;
}

const repoRoot = new URL("../../../", import.meta.url).pathname;

/** The exits CLI from source, as `exits` (the image's ENTRYPOINT runs the built one). */
export const EXITS_FROM_SOURCE: readonly string[] = [
  process.execPath,
  "--conditions=source",
  "--import",
  join(repoRoot, "tools/register.mjs"),
  join(repoRoot, "libs/cli/src/main.ts"),
];
