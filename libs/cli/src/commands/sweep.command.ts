import { resolve } from "node:path";
import { loadModel, type MethodConfig, sweepRetrieval, updateManifest } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, runtimeFromFlags } from "../method-flags.js";
import { type DatasetFlagValues, readObjectSet, withDatasetFlags } from "./pipeline.command.js";
import { runCommand, runContext } from "./run-context.js";

const pct = (v: number | null) => (v === null ? "n/a" : `${(100 * v).toFixed(1)}`);

export function sweepCommand(program: Command): void {
  withDatasetFlags(program.command("sweep"))
    .description(
      "tune δ, α and the retrieval thresholds on labelled objects; records the sweep in the extractor's manifest",
    )
    .requiredOption("--extractor <dir>", "model directory written by train-extractor")
    .option(
      "--min-precision <p>",
      "both precisions must reach this; then the most net correct labels, coverage × (P_FG + P_BG − 1), win",
      Number.parseFloat,
      0.8,
    )
    .option("--threads <n>", "ONNX Runtime intra-op threads", (v) => Number.parseInt(v, 10))
    .option("--dry-run", "print the sweep without writing it into the manifest")
    .addHelpText(
      "after",
      "\nThe annotations must carry ground-truth segmentations (a validation subset). The chosen setting\nbecomes the extractor's retrieval configuration, used by `retrieve` and the pipeline.",
    )
    .action((o: DatasetFlagValues & MethodFlagValues & { extractor: string; minPrecision: number; dryRun?: boolean }) =>
      runCommand("sweep", async () => {
        const dir = resolve(o.extractor);
        const { manifest, parameters } = await loadModel(dir, "extractor");
        const c: MethodConfig = manifest.config;
        const set = await readObjectSet(o);
        const ctx = runContext();
        const sweep = await sweepRetrieval(set, parameters, c, {
          runtime: runtimeFromFlags(o),
          onProgress: ctx.onProgress,
          minPrecision: o.minPrecision,
        });
        const top = [...sweep.rows].sort((a, b) => (b.coverage ?? 0) - (a.coverage ?? 0));
        process.stdout.write(`δ  α  mode      τ_FG   τ_BG   frac   FG prec  BG prec  coverage  objects with points\n`);
        for (const r of top.filter((r) => (r.foregroundPrecision ?? 0) >= o.minPrecision - 0.05).slice(0, 15)) {
          const s = r.setting;
          process.stdout.write(
            `${s.delta}  ${s.alpha}  ${s.mode.padEnd(8)}  ${String(s.tauFg).padEnd(5)}  ${String(s.tauBg).padEnd(5)}  ${String(s.fgFraction).padEnd(5)}  ${pct(r.foregroundPrecision).padStart(7)}  ${pct(r.backgroundPrecision).padStart(7)}  ${pct(r.coverage).padStart(8)}  ${pct(r.objectsWithPoints).padStart(8)}\n`,
          );
        }
        process.stdout.write(`chosen (${sweep.rule}): ${JSON.stringify(sweep.best)}\n`);
        if (!o.dryRun) {
          await updateManifest(dir, (m) => ({
            ...m,
            config: { ...m.config, retrieval: { ...m.config.retrieval, ...sweep.best.setting } },
            sweep: { ...sweep, dataset: set.annotationsFile, at: new Date().toISOString() },
          }));
          process.stdout.write(`recorded in ${dir}/manifest.json\n`);
        }
      }),
    );
}
