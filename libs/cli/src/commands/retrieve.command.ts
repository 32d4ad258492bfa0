import { resolve } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { evaluatePoints, loadModel, type MethodConfig, retrievePoints } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, runtimeFromFlags } from "../method-flags.js";
import { type DatasetFlagValues, readObjectSet, withDatasetFlags } from "./pipeline.command.js";
import { runCommand, runContext } from "./run-context.js";

export function retrieveCommand(program: Command): void {
  withDatasetFlags(program.command("retrieve"))
    .description("stage 1b: pseudo foreground/background points by a random walk on the frozen extractor's attention")
    .requiredOption(
      "--extractor <dir>",
      "model directory written by train-extractor (its configuration is used, sweep included)",
    )
    .requiredOption("--out <file>", "points JSON to write (image coordinates, one entry per annotation id)")
    .option("--threads <n>", "ONNX Runtime intra-op threads", (v) => Number.parseInt(v, 10))
    .action((o: DatasetFlagValues & MethodFlagValues & { extractor: string; out: string }) =>
      runCommand("retrieve", async () => {
        const { manifest, parameters } = await loadModel(resolve(o.extractor), "extractor");
        const c: MethodConfig = manifest.config;
        const set = await readObjectSet(o);
        const ctx = runContext();
        const { points } = await retrievePoints(set, parameters, c, {
          runtime: runtimeFromFlags(o),
          onProgress: ctx.onProgress,
        });
        await writeFileAtomic(resolve(o.out), `${JSON.stringify({ config: c.retrieval, points })}\n`);
        const report = evaluatePoints(set, points);
        process.stdout.write(`${points.length} objects → ${resolve(o.out)}\n`);
        if (report) process.stdout.write(`${JSON.stringify(report)}\n`);
      }),
    );
}
