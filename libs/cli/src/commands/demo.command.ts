import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeSyntheticDataset } from "@exits/dataset";
import { ObjectSet } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, methodConfigFromFlags, withMethodFlags } from "../method-flags.js";
import { runPipelineWithReport } from "./pipeline.command.js";
import { printSummary } from "./print-summary.js";
import { runCommand } from "./run-context.js";

/** `exits demo` (what `npm start` runs): the whole method on a generated dataset, on the CPU, in minutes. */
export function demoCommand(program: Command): void {
  withMethodFlags(program.command("demo", { isDefault: true }))
    .description("generate the synthetic benchmark and run the whole pipeline on it (the default; `npm start`)")
    .option("--out <dir>", "output directory", "exits-demo")
    .option(
      "--synthetic-images <n>",
      "images to generate (about 4 objects each, a third of them split by an occluder)",
      (v) => Number.parseInt(v, 10),
      200,
    )
    .addHelpText(
      "after",
      `
Writes <out>/data (images + COCO annotations with extreme points), trains both models from
scratch, exports <out>/export/annotations.exits.json and opens nothing: it prints where
<out>/report.html is (mIoU against the filled box, retrieval precision, pictures, loss curves).
About 4–6 minutes on 2 CPU cores with the defaults; --epochs 3 for a quick look.`,
    )
    .action((o: MethodFlagValues & { out: string; syntheticImages: number }) =>
      runCommand("demo", async () => {
        const config = methodConfigFromFlags(o);
        const out = resolve(o.out);
        const data = join(out, `data-${o.syntheticImages}-seed${config.seed}`);
        const annotations = join(data, "annotations.json");
        const exists = await access(annotations).then(
          () => true,
          () => false,
        );
        if (!exists) {
          process.stderr.write(`generating ${o.syntheticImages} synthetic images in ${data}\n`);
          await writeSyntheticDataset({ out: data, images: o.syntheticImages, seed: config.seed });
        }
        const set = await ObjectSet.read(annotations, join(data, "images"), { points: "annotation" });
        const result = await runPipelineWithReport(set, config, out, o, "exits demo — synthetic benchmark");
        printSummary(result);
      }),
    );
}
