import { resolve } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { type RleMask, readCocoAnnotations, segmentationToRle } from "@exits/dataset";
import { boxMasks, evaluateMasks, ObjectSet } from "@exits/exits";
import type { Command } from "commander";
import { runCommand } from "./run-context.js";

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : (100 * v).toFixed(1));

export function evaluateCommand(program: Command): void {
  program
    .command("evaluate")
    .description("mIoU of pseudo masks against ground-truth masks (MAL's protocol), beside the filled-box baseline")
    .requiredOption("--predictions <file>", "COCO file of masks (e.g. written by `exits export`), same annotation ids")
    .requiredOption("--annotations <file>", "ground-truth COCO file with segmentations")
    .requiredOption("--images <dir>", "image directory of the ground truth")
    .option(
      "--simulate-extreme-points",
      "the ground truth has no extreme_points: make them from its masks (for the box baseline)",
    )
    .option("--json <file>", "also write the figures here")
    .action(
      (o: {
        predictions: string;
        annotations: string;
        images: string;
        simulateExtremePoints?: boolean;
        json?: string;
      }) =>
        runCommand("evaluate", async () => {
          const set = await ObjectSet.read(resolve(o.annotations), resolve(o.images), {
            points: o.simulateExtremePoints ? "mask" : "auto",
          });
          const result = await evaluatePredictions(set, resolve(o.predictions));
          if (!result) throw new Error(`${o.annotations}: no object has both a ground truth and a prediction`);
          process.stdout.write(result.table);
          if (o.json) await writeFileAtomic(resolve(o.json), result.json);
        }),
    );
}

/**
 * A COCO file of predicted masks against `set`'s ground truth, beside the filled box: the table
 * people read and the JSON a program reads; undefined when no object has both.
 */
export async function evaluatePredictions(
  set: ObjectSet,
  predictions: string,
): Promise<{ table: string; json: string } | undefined> {
  const masks = new Map<number, RleMask>();
  for await (const a of readCocoAnnotations(predictions)) {
    if (a.segmentation === undefined) continue;
    const image = set.images.get(a.image_id);
    if (!image) throw new Error(`${predictions}: annotation ${a.id} names unknown image_id ${a.image_id}`);
    masks.set(a.id, segmentationToRle(a.segmentation, image.height, image.width));
  }
  const pred = evaluateMasks(set, masks);
  const box = evaluateMasks(set, boxMasks(set));
  if (!pred || !box) return undefined;
  const row = (name: string, e: typeof pred) =>
    `${name.padEnd(12)} ${pct(e.report.classAveragedMIoU).padStart(6)} ${pct(e.report.instanceMIoU).padStart(8)} ${pct(e.report.separated.mIoU).padStart(9)} ${pct(e.report.bySize.small.mIoU).padStart(6)} ${pct(e.report.bySize.medium.mIoU).padStart(6)} ${pct(e.report.bySize.large.mIoU).padStart(6)}`;
  return {
    table: `${pred.report.count} objects\nmIoU %       class  instance separated  small medium  large\n${row("predictions", pred)}\n${row("filled box", box)}\n`,
    json: `${JSON.stringify({ predictions: { report: pred.report, classAveraged: pred.classAveraged }, box: { report: box.report, classAveraged: box.classAveraged } }, null, 2)}\n`,
  };
}
