import { join } from "node:path";
import { initGeneratorParams, type MethodConfig, resolveMethodConfig, saveModel } from "@exits/exits";

/** The smallest generator worth serving: crop 32, patch 8, one block; for tests and the load bench. */
export function tinyGeneratorConfig(): MethodConfig {
  return resolveMethodConfig({
    crop: { size: 32, patch: 8, maskStride: 2 },
    model: { embedDim: 32, depth: 1, numHeads: 2, mlpRatio: 2, decoderChannels: 8 },
  });
}

/**
 * Writes a randomly initialised generator (seeded) as a model directory `dataDir/clientPath`,
 * exactly as training would save it. Different seeds give visibly different masks.
 */
export async function writeTinyGenerator(
  dataDir: string,
  clientPath: string,
  seed = 1,
  config: MethodConfig = tinyGeneratorConfig(),
): Promise<string> {
  const dir = join(dataDir, ...clientPath.split("/"));
  await saveModel(dir, initGeneratorParams(config, seed), {
    kind: "generator",
    config,
    training: { fixture: "tiny-generator", seed },
    inputs: {},
  });
  return dir;
}
