import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { CocoInputError } from "@exits/dataset";
import { exportDataset, type MethodConfig, type MethodObject, type ObjectMaskPredictor, ObjectSet } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import type { PlannedShard } from "./export-plan.js";
import type { SkipRecord } from "./export-types.js";

/** What one chunk (a few consecutive images of a shard) produced; `stats.json` marks it finished. */
export interface ChunkStats {
  readonly output: string;
  readonly exported: number;
  readonly emptyMasks: number;
  readonly scoreSum: number;
  /** Annotations whose image failed to decode here (the plan only read image headers). */
  readonly skipped: readonly SkipRecord[];
  readonly images: number;
}

/** A finished shard: its chunks in order (`done.json`). */
export interface ShardResult {
  readonly index: number;
  readonly chunks: readonly ChunkStats[];
}

export interface ShardOptions {
  readonly jobDir: string;
  readonly shard: PlannedShard;
  readonly imagesDir: string;
  readonly config: MethodConfig;
  readonly predictor: ObjectMaskPredictor;
  readonly reject: boolean;
  /** Recorded in every chunk's manifest. */
  readonly manifest: Record<string, unknown>;
  readonly signal: AbortSignal;
  /** Images per chunk (the unit kept across a resume); default 32. */
  readonly chunkImages?: number;
  /** Annotations of this shard processed so far (exported or skipped), including earlier attempts. */
  readonly onProgress?: (done: number) => void;
  readonly onSkip?: (record: SkipRecord) => void;
  /** A chunk finished: its newly processed images and annotations. */
  readonly onChunk?: (stats: ChunkStats) => void;
}

export const SHARDS_DIR = "shards";
const DONE_FILE = "done.json";

/** `<jobDir>/shards/shard-0000`, the shard's partial outputs. */
export function shardDir(jobDir: string, index: number): string {
  return join(jobDir, SHARDS_DIR, `shard-${String(index).padStart(4, "0")}`);
}

/** The shard's result when an earlier attempt finished it. */
export async function finishedShard(jobDir: string, index: number): Promise<ShardResult | undefined> {
  const file = join(shardDir(jobDir, index), DONE_FILE);
  return existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as ShardResult) : undefined;
}

/**
 * Exports one shard: its objects grouped by image (ascending id, file order within an image) in
 * chunks of `chunkImages` images, each written by `exportDataset` to its own partial COCO file.
 * A chunk's images are decoded first; an image that does not decode (or has the wrong size)
 * skips its annotations as IMAGE_INVALID. Finished chunks (their `stats.json`) are kept when the
 * shard runs again, so an interrupted shard restarts from its partial outputs.
 */
export async function runShard(o: ShardOptions): Promise<ShardResult> {
  const dir = shardDir(o.jobDir, o.shard.index);
  await mkdir(dir, { recursive: true });
  const chunkImages = o.chunkImages ?? 32;
  const set = await ObjectSet.read(join(o.jobDir, o.shard.input), o.imagesDir, {
    points: "annotation",
    cacheSize: chunkImages + 1,
  });
  const order = set.objects.map((object, k) => ({ object, k }));
  order.sort((a, b) => a.object.imageId - b.object.imageId || a.k - b.k);
  const byImage: MethodObject[][] = [];
  for (const { object } of order) {
    const last = byImage[byImage.length - 1];
    if (last && last[0]!.imageId === object.imageId) last.push(object);
    else byImage.push([object]);
  }
  const chunks: ChunkStats[] = [];
  let done = 0;
  let keyBase = (o.shard.index + 1) * 1_000_000_000;
  for (let start = 0, c = 0; start < byImage.length; start += chunkImages, c++) {
    if (o.signal.aborted) throw o.signal.reason;
    const images = byImage.slice(start, start + chunkImages);
    const name = `chunk-${String(c).padStart(5, "0")}`;
    const statsFile = join(dir, `${name}.stats.json`);
    const count = images.reduce((s, g) => s + g.length, 0);
    if (existsSync(statsFile)) {
      chunks.push(JSON.parse(await readFile(statsFile, "utf8")) as ChunkStats);
      done += count;
      keyBase += count;
      o.onProgress?.(done);
      continue;
    }
    const good: MethodObject[] = [];
    const skipped: SkipRecord[] = [];
    for (const group of images) {
      const imageId = group[0]!.imageId;
      try {
        await set.pixels(imageId);
        good.push(...group);
      } catch (e) {
        if (!(e instanceof CocoInputError)) throw e;
        const field = `images[id=${imageId}].${e.field ?? "file_name"}`;
        if (o.reject)
          throw new InvalidArgumentError(
            `spec.input_annotations: annotation ${group[0]!.id}: ${field}`,
            `${e.problem.split(`${o.imagesDir}/`).join("")} (image_invalid)`,
          );
        for (const object of group) {
          const record: SkipRecord = {
            annotationId: object.id,
            imageId,
            reason: "IMAGE_INVALID",
            field,
            message: `image ${imageId}: ${e.problem.split(`${o.imagesDir}/`).join("")}`,
            shardIndex: o.shard.index,
            key: keyBase + skipped.length,
          };
          skipped.push(record);
          o.onSkip?.(record);
        }
      }
    }
    keyBase += count;
    const base = done + skipped.length;
    done = base;
    o.onProgress?.(done);
    let exported = 0;
    let emptyMasks = 0;
    let scoreSum = 0;
    const output = join(dir, `${name}.json`);
    await exportDataset(set.subset(good), o.predictor, o.config, {
      output,
      manifest: o.manifest,
      signal: o.signal,
      onMask: ({ mask, score }) => {
        exported++;
        scoreSum += score;
        if (!mask.data.includes(1)) emptyMasks++;
      },
      onProgress: (p) => o.onProgress?.(base + p.done),
    });
    done = base + good.length;
    const stats: ChunkStats = {
      output: `${name}.json`,
      exported,
      emptyMasks,
      scoreSum,
      skipped,
      images: images.length,
    };
    await writeFileAtomic(statsFile, `${JSON.stringify(stats)}\n`);
    chunks.push(stats);
    o.onChunk?.(stats);
  }
  const result: ShardResult = { index: o.shard.index, chunks };
  await writeFileAtomic(join(dir, DONE_FILE), `${JSON.stringify(result)}\n`);
  return result;
}
