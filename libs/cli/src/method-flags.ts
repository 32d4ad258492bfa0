import { readFileSync } from "node:fs";
import { defaultExecutionProvider, type ExecutionProviderChoice, executionProviders } from "@exits/base";
import { type MethodConfig, type MethodConfigOverrides, resolveMethodConfig } from "@exits/exits";
import type { RuntimeConfig } from "@exits/runtime";
import { type Command, InvalidArgumentError } from "commander";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
  return n;
};

/** The flags every training or inference command shares: model size, training budget, threads. */
export function withMethodFlags(cmd: Command): Command {
  return cmd
    .option("--config <file>", 'JSON file of configuration overrides, e.g. {"retrieval": {"alpha": 4}} (flags win)')
    .option(
      "--crop-size <px>",
      "crop side S (multiple of --patch; 512 for real use, 64 in the demo)",
      int("--crop-size"),
    )
    .option("--patch <px>", "ViT patch size (16 for timm ViT-S/B; 8 in the demo)", int("--patch"))
    .option("--embed-dim <n>", "ViT width (384 = ViT-S, 768 = ViT-B; 128 in the demo)", int("--embed-dim"))
    .option("--depth <n>", "ViT blocks (12 for ViT-S/B)", int("--depth"))
    .option("--heads <n>", "attention heads (6 ViT-S, 12 ViT-B)", int("--heads"))
    .option("--epochs <n>", "epochs of BOTH training stages", int("--epochs"))
    .option("--extractor-epochs <n>", "epochs of the MIL similarity extractor", int("--extractor-epochs"))
    .option("--generator-epochs <n>", "epochs of the generator", int("--generator-epochs"))
    .option("--batch <n>", "crops per optimiser step (both stages)", int("--batch"))
    .option("--lr <x>", "peak learning rate (both stages)", num("--lr"))
    .option("--seed <n>", "seed of every random draw (same seed, same result)", int("--seed"))
    .option("--threads <n>", "ONNX Runtime intra-op threads", int("--threads"))
    .option("--provider <name>", "ONNX Runtime execution provider: auto, cpu or cuda", "auto")
    .option("--budget <seconds>", "wall-clock budget; training stops early (and says so) to keep it", num("--budget"));
}

export interface MethodFlagValues {
  config?: string;
  cropSize?: number;
  patch?: number;
  embedDim?: number;
  depth?: number;
  heads?: number;
  epochs?: number;
  extractorEpochs?: number;
  generatorEpochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  threads?: number;
  provider?: string;
  budget?: number;
}

/** Resolves the configuration: defaults ← --config file ← flags. Throws naming the field. */
export function methodConfigFromFlags(o: MethodFlagValues, base?: MethodConfigOverrides): MethodConfig {
  let fileOverrides: MethodConfigOverrides = {};
  if (o.config) {
    try {
      fileOverrides = JSON.parse(readFileSync(o.config, "utf8")) as MethodConfigOverrides;
    } catch (e) {
      throw new Error(`${o.config}: not a readable JSON configuration (${(e as Error).message})`);
    }
  }
  const withBase = resolveMethodConfig({ ...(base ?? {}) });
  const fromFile = resolveMethodConfig(fileOverrides, withBase);
  const training = (specific?: number) => ({
    ...((specific ?? o.epochs) !== undefined ? { epochs: specific ?? o.epochs } : {}),
    ...(o.batch !== undefined ? { batch: o.batch } : {}),
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
  });
  return resolveMethodConfig(
    {
      crop: {
        ...(o.cropSize !== undefined ? { size: o.cropSize } : {}),
        ...(o.patch !== undefined ? { patch: o.patch } : {}),
      },
      model: {
        ...(o.embedDim !== undefined ? { embedDim: o.embedDim } : {}),
        ...(o.depth !== undefined ? { depth: o.depth } : {}),
        ...(o.heads !== undefined ? { numHeads: o.heads } : {}),
      },
      extractor: training(o.extractorEpochs),
      generator: training(o.generatorEpochs),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    },
    fromFile,
  );
}

/** ONNX Runtime settings from the flags; what is not given keeps the one set of defaults (`@exits/base`). */
export function runtimeFromFlags(o: MethodFlagValues): Partial<RuntimeConfig> {
  const provider = o.provider ?? defaultExecutionProvider;
  if (!(executionProviders as readonly string[]).includes(provider))
    throw new Error(`--provider must be ${executionProviders.join(", ")}, got "${provider}"`);
  return {
    executionProvider: provider as ExecutionProviderChoice,
    ...(o.threads !== undefined ? { intraOpNumThreads: o.threads } : {}),
  };
}
