import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticDataset } from "@exits/dataset";
import { ObjectSet } from "@exits/exits";

/**
 * The synthetic benchmark the method's benches share: generated once per (seed, images) into the
 * temporary directory, then read with the file's extreme points.
 */
export async function syntheticBenchmark(images: number, seed: number): Promise<{ set: ObjectSet; dir: string }> {
  const dir = join(tmpdir(), `exits-synthetic-seed${seed}-n${images}`);
  if (!existsSync(join(dir, "annotations.json"))) await writeSyntheticDataset({ out: dir, images, seed });
  return {
    set: await ObjectSet.read(join(dir, "annotations.json"), join(dir, "images"), { points: "annotation" }),
    dir,
  };
}
