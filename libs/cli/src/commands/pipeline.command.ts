import { resolve } from "node:path";
import { ObjectSet, type PipelineResult, runPipeline, writePipelineReport } from "@exits/exits";
import type { Command } from "commander";
import { type MethodFlagValues, methodConfigFromFlags, runtimeFromFlags, withMethodFlags } from "../method-flags.js";
import { printSummary } from "./print-summary.js";
import { type RemoteFlagValues, runRemote } from "./remote-pipeline.js";
import { runCommand, runContext } from "./run-context.js";

export interface DatasetFlagValues {
  annotations: string;
  images: string;
  simulateExtremePoints?: boolean;
  simulationRule?: "snapped" | "midpoint";
  limit?: number;
}

/** `--annotations`, `--images`, `--simulate-extreme-points`: where a COCO dataset is and where its clicks come from. */
export function withDatasetFlags(cmd: Command): Command {
  return cmd
    .requiredOption(
      "--annotations <file>",
      "COCO instance JSON; annotations carry extreme_points [[x,y] top, left, bottom, right]",
    )
    .requiredOption("--images <dir>", "directory the images' file_name entries are relative to")
    .option(
      "--simulate-extreme-points",
      "make the four clicks from each ground-truth mask (ExtremeNet rule, points snapped onto the object) instead of reading extreme_points",
    )
    .option(
      "--simulation-rule <rule>",
      "with --simulate-extreme-points: 'snapped' (ExtremeNet band midpoint moved onto the object, as an annotator clicks) or 'midpoint' (the raw ExtremeNet rule, may fall off the object)",
      "snapped",
    )
    .option("--limit <n>", "use only the first N objects (quick trials)", (v) => Number.parseInt(v, 10));
}

export function readObjectSet(o: DatasetFlagValues): Promise<ObjectSet> {
  if (o.simulationRule !== undefined && o.simulationRule !== "snapped" && o.simulationRule !== "midpoint")
    throw new Error(`--simulation-rule must be "snapped" or "midpoint", got "${o.simulationRule}"`);
  return ObjectSet.read(resolve(o.annotations), resolve(o.images), {
    points: o.simulateExtremePoints ? "mask" : "annotation",
    simulation: o.simulationRule === "midpoint" ? "midpoint" : "snapped",
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  });
}

export function pipelineCommand(program: Command): void {
  withMethodFlags(withDatasetFlags(program.command("pipeline")))
    .description("run every stage on a COCO dataset: extractor, retrieval, generator, export, evaluation, report")
    .requiredOption(
      "--out <dir>",
      "output directory (models/, jobs/, retrieval/, export/, report.html); rerun to resume",
    )
    .option("--remote", "run the stages through the six gRPC services instead of in this process")
    .option(
      "--trainer <host:port>",
      "with --remote: the TrainerService",
      process.env.EXITS_TRAINER_ADDRESS ?? "localhost:50053",
    )
    .option(
      "--exporter <host:port>",
      "with --remote: the ExporterService",
      process.env.EXITS_EXPORTER_ADDRESS ?? "localhost:50056",
    )
    .option(
      "--data-dir <dir>",
      "with --remote: the services' data directory (EXITS_DATA_DIR) as this machine sees it; the dataset and --out lie inside",
      process.env.EXITS_DATA_DIR ?? ".exits-data",
    )
    .addHelpText(
      "after",
      `
Stages (method.md): 1) train the similarity extractor with the MIL loss; 2) retrieve pseudo
foreground/background points by a random walk on its attention; 3) train the pseudo-label
generator with the point loss and the CRF loss (EMA teacher); 4) export a COCO file of pseudo
masks (RLE, area = mask pixels, bbox from the extreme points, score); 5) where the file has
ground-truth masks, evaluate them (class-averaged mIoU, by size, separated objects) against the
filled-box baseline and write report.html.

Examples:
  exits pipeline --annotations data/train.json --images data/train2017 --out runs/train
  exits pipeline --annotations instances_val2017.json --images val2017 \\
      --simulate-extreme-points --crop-size 128 --patch 16 --epochs 30 --out runs/val --budget 3600
  exits serve all &   # the six services in one process, wired to each other
  exits pipeline --remote --data-dir .exits-data --annotations .exits-data/coco/train.json \\
      --images .exits-data/coco/train2017 --out .exits-data/runs/train
A killed run started again with the same flags resumes from its last checkpoint (with --remote,
it re-attaches to its jobs, which the services resume from theirs).`,
    )
    .action((o: DatasetFlagValues & MethodFlagValues & RemoteFlagValues & { out: string; remote?: boolean }) =>
      runCommand("pipeline", async () => {
        const config = methodConfigFromFlags(o);
        const set = await readObjectSet(o);
        if (o.remote) return runRemote(set, config, resolve(o.out), o);
        const result = await runPipelineWithReport(set, config, resolve(o.out), o);
        printSummary(result);
      }),
    );
}

export async function runPipelineWithReport(
  set: ObjectSet,
  config: ReturnType<typeof methodConfigFromFlags>,
  outDir: string,
  o: MethodFlagValues,
  title?: string,
): Promise<PipelineResult & { report: string }> {
  const ctx = runContext();
  process.stderr.write(`${set.objects.length} objects in ${set.images.size} images from ${set.annotationsFile}\n`);
  const result = await runPipeline({
    set,
    config,
    outDir,
    runtime: runtimeFromFlags(o),
    logger: ctx.logger,
    onProgress: ctx.onProgress,
    onStage: ctx.onStage,
    ...(o.budget !== undefined ? { budgetSeconds: o.budget } : {}),
  });
  const report = await writePipelineReport(result, set, outDir, title ? { title } : {});
  return { ...result, report };
}
