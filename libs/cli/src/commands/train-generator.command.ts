import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadModel, type MethodConfig, type ObjectPoints, saveModel, trainGenerator } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, methodConfigFromFlags, runtimeFromFlags, withMethodFlags } from "../method-flags.js";
import { type DatasetFlagValues, readObjectSet, withDatasetFlags } from "./pipeline.command.js";
import { runCommand, runContext } from "./run-context.js";

export function trainGeneratorCommand(program: Command): void {
  withMethodFlags(withDatasetFlags(program.command("train-generator")))
    .description("stage 1c: train the pseudo-label generator with the point loss and the CRF loss (EMA teacher)")
    .requiredOption(
      "--extractor <dir>",
      "extractor model directory (initialises the encoder; its configuration is the base)",
    )
    .requiredOption("--points <file>", "points JSON written by `exits retrieve`")
    .requiredOption("--out <dir>", "generator model directory to write; job/ inside resumes after a crash")
    .action((o: DatasetFlagValues & MethodFlagValues & { extractor: string; points: string; out: string }) =>
      runCommand("train-generator", async () => {
        const ext = await loadModel(resolve(o.extractor), "extractor");
        const c: MethodConfig = methodConfigFromFlags(o, ext.manifest.config);
        const set = await readObjectSet(o);
        let file: { points: ObjectPoints[] };
        try {
          file = JSON.parse(await readFile(resolve(o.points), "utf8")) as { points: ObjectPoints[] };
        } catch (e) {
          throw new Error(`${o.points}: not a points file written by exits retrieve (${(e as Error).message})`);
        }
        const byId = new Map(file.points.map((p) => [p.id, p]));
        const points = set.objects.map((obj) => byId.get(obj.id));
        const ctx = runContext();
        const out = resolve(o.out);
        const gen = await trainGenerator(set, points, c, {
          dir: join(out, "job"),
          encoder: ext.parameters,
          runtime: runtimeFromFlags(o),
          logger: ctx.logger,
          onProgress: ctx.onProgress,
          ...(o.budget !== undefined ? { budgetSeconds: o.budget } : {}),
        });
        await saveModel(out, gen.teacher ?? gen.parameters, {
          kind: "generator",
          config: c,
          training: {
            steps: gen.run.steps,
            stoppedEarly: gen.run.stoppedEarly,
            weights: gen.teacher ? "ema-teacher" : "student",
          },
          inputs: { annotations: set.annotationsFile, extractor: resolve(o.extractor), points: resolve(o.points) },
        });
        process.stdout.write(`generator written to ${out}\n`);
      }),
    );
}
