import { resolve } from "node:path";
import { exportDataset, loadModel, MaskPredictor, type MethodConfig } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, runtimeFromFlags } from "../method-flags.js";
import { type DatasetFlagValues, readObjectSet, withDatasetFlags } from "./pipeline.command.js";
import { runCommand, runContext } from "./run-context.js";

export function exportCommand(program: Command): void {
  withDatasetFlags(program.command("export"))
    .description("stage 2: pseudo masks for every object → a COCO instance file (RLE) any Mask R-CNN trainer reads")
    .requiredOption("--generator <dir>", "generator model directory")
    .requiredOption("--out <file>", "COCO JSON to write (must end in .json); a manifest is written beside it")
    .option(
      "--threshold <p>",
      "mask threshold on the pasted probabilities (default: the model's, 0.5)",
      Number.parseFloat,
    )
    .option("--threads <n>", "ONNX Runtime intra-op threads", (v) => Number.parseInt(v, 10))
    .action((o: DatasetFlagValues & MethodFlagValues & { generator: string; out: string; threshold?: number }) =>
      runCommand("export", async () => {
        const { manifest, parameters } = await loadModel(resolve(o.generator), "generator");
        const c: MethodConfig = {
          ...manifest.config,
          export: { ...manifest.config.export, ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) },
        };
        if (!(c.export.threshold > 0 && c.export.threshold <= 1))
          throw new Error(`--threshold must be in (0, 1], got ${o.threshold}`);
        const set = await readObjectSet(o);
        const ctx = runContext();
        const predictor = await MaskPredictor.create(c, parameters, Math.min(c.export.batch, set.objects.length), {
          runtime: runtimeFromFlags(o),
        });
        try {
          const r = await exportDataset(set, predictor, c, {
            output: resolve(o.out),
            manifest: { models: { generator: resolve(o.generator) }, inputs: { annotations: set.annotationsFile } },
            onProgress: ctx.onProgress,
          });
          process.stdout.write(`${r.annotations} pseudo masks → ${r.output}\nmanifest ${r.manifestPath}\n`);
        } finally {
          await predictor.release();
        }
      }),
    );
}
