import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExtremePoints as WirePoints } from "@exits/contracts";
import { writeSyntheticDataset } from "@exits/dataset";
import { initExtractorParams, type MethodConfig, ObjectSet, resolveMethodConfig, saveModel } from "@exits/exits";
import type { HostTensor } from "@exits/runtime";

/** A data directory with a tiny random-weight extractor at models/extractor and a synthetic dataset. */
export interface TinyExtractorFixture {
  dataDir: string;
  config: MethodConfig;
  parameters: Map<string, HostTensor>;
  set: ObjectSet;
  /** Client path of image 1 and its bytes. */
  imagePath: string;
  imageBytes: Buffer;
  /** The objects of image 1, as wire extreme points. */
  objects: WirePoints[];
}

/** Tests only: no training; S = 32, patch 8 (N = 4), one block. */
export async function tinyExtractorFixture(
  overrides: Parameters<typeof resolveMethodConfig>[0] = {},
): Promise<TinyExtractorFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), "exits-h3-"));
  const config = resolveMethodConfig({
    crop: { size: 32, patch: 8 },
    model: { embedDim: 32, depth: 1, numHeads: 2 },
    ...overrides,
  });
  const parameters = initExtractorParams(config, 1);
  await saveModel(join(dataDir, "models", "extractor"), parameters, {
    kind: "extractor",
    config,
    training: {},
    inputs: {},
  });
  const data = await writeSyntheticDataset({ out: join(dataDir, "datasets", "syn"), images: 2, seed: 3 });
  const set = await ObjectSet.read(data.annotationsFile, data.imageDir, { points: "annotation" });
  const first = set.image(set.objects[0]!.imageId);
  const imagePath = `datasets/syn/images/${first.file_name}`;
  const objects = set.objects
    .filter((o) => o.imageId === first.id)
    .map((o) => {
      const [top, left, bottom, right] = o.points.map(([x, y]) => ({ x, y }));
      return { top, left, bottom, right } as WirePoints;
    });
  return { dataDir, config, parameters, set, imagePath, imageBytes: await readFile(join(dataDir, imagePath)), objects };
}
