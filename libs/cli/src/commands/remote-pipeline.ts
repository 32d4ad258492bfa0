import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { CocoWriter } from "@exits/dataset";
import type { MethodConfig, ObjectSet } from "@exits/exits";
import { DataPaths, runRemotePipeline } from "@exits/serving";
import type { MethodFlagValues } from "../method-flags.js";
import { runtimeFromFlags } from "../method-flags.js";
import { evaluatePredictions } from "./evaluate.command.js";
import { runContext } from "./run-context.js";

export interface RemoteFlagValues {
  trainer: string;
  exporter: string;
  dataDir: string;
}

/**
 * `exits pipeline --remote`: the same stages through the services (trainer, exporter, and the
 * retrieval, similarity and mask services behind them), which share the data directory with this
 * client. The dataset and `--out` must lie inside it; with --simulate-extreme-points the clicks
 * are made here and written beside the output as the COCO file the jobs read.
 */
export async function runRemote(
  set: ObjectSet,
  config: MethodConfig,
  outDir: string,
  o: RemoteFlagValues & MethodFlagValues,
): Promise<void> {
  if (o.budget !== undefined) throw new Error("--budget applies to the embedded run only; jobs run to their epochs");
  const paths = new DataPaths(resolve(o.dataDir));
  const inside = (flag: string, path: string) => {
    try {
      return paths.toClient(resolve(path));
    } catch {
      throw new Error(`${flag} ${path} lies outside the services' data directory ${paths.root} (--data-dir)`);
    }
  };
  const out = inside("--out", outDir);
  await mkdir(resolve(outDir), { recursive: true });
  let annotations = inside("--annotations", set.annotationsFile);
  if (set.pointOrigin !== "annotation") {
    const file = join(resolve(outDir), "annotations.with-extreme-points.json");
    const writer = await CocoWriter.open(file, set.dataset);
    for (const obj of set.objects)
      await writer.write({
        ...obj.source,
        id: obj.id,
        image_id: obj.imageId,
        category_id: obj.categoryId,
        extreme_points: obj.points,
      });
    await writer.close();
    annotations = inside("--out", file);
  }
  const ctx = runContext();
  const runtime = runtimeFromFlags(o);
  const result = await runRemotePipeline({
    addresses: { trainer: o.trainer, exporter: o.exporter },
    annotations,
    images: inside("--images", set.imageDir),
    config,
    outDir: out,
    execution: {
      provider: runtime.executionProvider ?? "auto",
      deviceId: 0,
      intraOpThreads: runtime.intraOpNumThreads ?? 0,
    },
    logger: ctx.logger,
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    ...(ctx.onStage ? { onStage: ctx.onStage } : {}),
  });
  const exported = join(paths.root, result.export);
  process.stdout.write(
    `\nmodels   ${result.extractor}, ${result.generator}\nexport   ${result.export}\njobs     ${Object.entries(
      result.jobs,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}\n`,
  );
  const evaluation = await evaluatePredictions(set, exported);
  if (evaluation) {
    await writeFileAtomic(join(resolve(outDir), "evaluation.json"), evaluation.json);
    process.stdout.write(`\n${evaluation.table}`);
  }
}
