import { join } from "node:path";
import { CocoWriter, readCocoAnnotations, readCocoDataset } from "@exits/dataset";
import { type ShardResult, shardDir } from "./export-shard.js";

/** What the merged output holds. */
export interface MergeResult {
  readonly exported: number;
  readonly kept: number;
}

/**
 * Writes the job's output: the input's header (info, licenses, images, categories unchanged),
 * then every shard's annotations in shard and chunk order (so by image id), then, for
 * keep_skipped, the skipped annotations unchanged in input order. Atomic: the file appears
 * complete or not at all (CocoWriter).
 */
export async function mergeShards(o: {
  readonly jobDir: string;
  readonly inputAnnotations: string;
  readonly output: string;
  readonly shards: readonly ShardResult[];
  /** Input positions of the annotations to copy unchanged, ascending. */
  readonly kept: ReadonlySet<number>;
  readonly signal?: AbortSignal;
}): Promise<MergeResult> {
  const dataset = await readCocoDataset(o.inputAnnotations);
  const writer = await CocoWriter.open(o.output, dataset);
  let exported = 0;
  let kept = 0;
  try {
    for (const shard of [...o.shards].sort((a, b) => a.index - b.index)) {
      for (const chunk of shard.chunks) {
        if (o.signal?.aborted) throw o.signal.reason;
        for await (const a of readCocoAnnotations(join(shardDir(o.jobDir, shard.index), chunk.output))) {
          await writer.write(a);
          exported++;
        }
      }
    }
    if (o.kept.size > 0) {
      let position = 0;
      for await (const a of readCocoAnnotations(o.inputAnnotations)) {
        if (o.kept.has(position++)) {
          await writer.write(a);
          kept++;
        }
      }
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return { exported, kept };
}
