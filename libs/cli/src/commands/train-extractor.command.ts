import { join, resolve } from "node:path";
import { saveModel, trainExtractor } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, methodConfigFromFlags, runtimeFromFlags, withMethodFlags } from "../method-flags.js";
import { type DatasetFlagValues, readObjectSet, withDatasetFlags } from "./pipeline.command.js";
import { runCommand, runContext } from "./run-context.js";

export function trainExtractorCommand(program: Command): void {
  withMethodFlags(withDatasetFlags(program.command("train-extractor")))
    .description("stage 1a: train the similarity extractor (ViT + per-patch head) with the MIL loss alone")
    .requiredOption(
      "--out <dir>",
      "model directory to write (weights.safetensors + manifest.json); jobs/ inside resumes",
    )
    .action((o: DatasetFlagValues & MethodFlagValues & { out: string }) =>
      runCommand("train-extractor", async () => {
        const c = methodConfigFromFlags(o);
        const set = await readObjectSet(o);
        const ctx = runContext();
        const out = resolve(o.out);
        const { parameters, run } = await trainExtractor(set, c, {
          dir: join(out, "job"),
          runtime: runtimeFromFlags(o),
          logger: ctx.logger,
          onProgress: ctx.onProgress,
          ...(o.budget !== undefined ? { budgetSeconds: o.budget } : {}),
        });
        await saveModel(out, parameters, {
          kind: "extractor",
          config: c,
          training: {
            steps: run.steps,
            totalSteps: run.totalSteps,
            stoppedEarly: run.stoppedEarly,
            seconds: run.seconds,
          },
          inputs: { annotations: set.annotationsFile, images: set.imageDir, objects: set.objects.length },
        });
        process.stdout.write(`extractor written to ${out}\n`);
      }),
    );
}
