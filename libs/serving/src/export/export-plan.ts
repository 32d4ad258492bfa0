import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import {
  CocoFileError,
  type CocoImage,
  type CocoInputError,
  CocoWriter,
  cocoImageProblem,
  imageFileProblem,
  readCocoObjects,
} from "@exits/dataset";
import { DomainError, InvalidArgumentError, NotFoundError } from "@exits/platform";
import { extremePointsFromWire } from "../input/extreme-points-input.js";
import { ObjectInputError } from "../input/object-issue.js";
import type { DataPaths } from "../paths/data-paths.js";
import type { SkipReasonName, SkipRecord } from "./export-types.js";
import { skipReasonOfCocoError, skipReasonOfIssue } from "./skip-reason-of.js";

/** One shard of the plan: its image block and the valid annotations of those images. */
export interface PlannedShard {
  readonly index: number;
  readonly images: number;
  readonly annotations: number;
  /** COCO file (inside the job directory) with the shard's images and valid annotations. */
  readonly input: string;
}

/** What the plan found, persisted as `plan/plan.json` (written last: its presence means complete). */
export interface ExportPlan {
  readonly format: "exits-export-plan";
  readonly inputSha256: string;
  readonly imagesTotal: number;
  readonly annotationsTotal: number;
  readonly crowd: number;
  readonly shards: readonly PlannedShard[];
  /** Annotations the plan skipped: `plan/skipped.jsonl`, one SkipRecord per line. */
  readonly skipped: number;
  /** Positions in the input of the annotations keep_skipped copies unchanged (skipped and crowd), ascending. */
  readonly kept: readonly number[];
}

export interface PlanOptions {
  readonly annotationsFile: string;
  readonly imagesDir: string;
  readonly paths: DataPaths;
  readonly shardCount: number;
  readonly reject: boolean;
  readonly keepSkipped: boolean;
  readonly jobDir: string;
  readonly signal?: AbortSignal;
  /** Called for every skipped annotation as it is found. */
  readonly onSkip?: (record: SkipRecord) => void;
}

export const PLAN_DIR = "plan";
export const PLAN_FILE = "plan.json";
export const PLAN_SKIPPED_FILE = "skipped.jsonl";

/** SHA-256 of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The plan of an earlier attempt, when it completed. */
export async function readPlan(jobDir: string): Promise<ExportPlan | undefined> {
  const file = join(jobDir, PLAN_DIR, PLAN_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, "utf8")) as ExportPlan;
}

/**
 * Reads the input once and splits it: images sorted by id into `shardCount` contiguous blocks,
 * each block's valid annotations (in file order) into the shard's input file. An annotation is
 * skipped (or, under REJECT, fails the job naming it) when `readCocoObjects` refuses it (unknown
 * image, missing or malformed points, points outside or contradicting the box, ...), when its
 * image's `file_name` leads outside `images_dir`, is missing or is not the declared size, or
 * when its points fail the wire contract (pixel index space, box sides ≥ 3 px).
 */
export async function planExport(o: PlanOptions): Promise<ExportPlan> {
  const dir = join(o.jobDir, PLAN_DIR);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const inputSha256 = await fileSha256(o.annotationsFile);
  let read: Awaited<ReturnType<typeof readCocoObjects>>;
  try {
    read = await readCocoObjects(o.annotationsFile, {
      extremePoints: "annotation",
      onInvalid: "skip",
      includeCrowd: true,
    });
  } catch (e) {
    if (e instanceof CocoFileError) throw new InvalidArgumentError("spec.input_annotations", e.problem);
    throw e;
  }
  const { dataset, objects, report } = read;
  // Image entries that are malformed (their annotations are then "unknown" to the reader).
  const badImages = new Set<number>();
  const imageErrors = new Map<number, string>();
  for (const e of report.skipped) {
    if (e.annotationId === undefined && e.imageId !== undefined) {
      badImages.add(e.imageId);
      imageErrors.set(e.imageId, `image ${e.imageId}: ${e.field ? `${e.field}: ` : ""}${e.problem}`);
    }
  }
  const firstAnnotationError = report.skipped.length;
  const valid = dataset.images.filter((i) => cocoImageProblem(i) === undefined);
  const ids = [...new Set(valid.map((i) => i.id))].sort((a, b) => a - b);
  const shardOfImage = new Map<number, number>();
  // Shard k gets the k-th contiguous block of image ids.
  for (const [k, id] of ids.entries())
    shardOfImage.set(id, Math.min(o.shardCount - 1, Math.floor((k * o.shardCount) / ids.length)));
  const byId = new Map(valid.map((i) => [i.id, i]));
  const writers: CocoWriter[] = [];
  const shardImages: number[] = [];
  for (let k = 0; k < o.shardCount; k++) {
    const images = ids.filter((id) => shardOfImage.get(id) === k).map((id) => byId.get(id)!);
    shardImages.push(images.length);
    writers.push(await CocoWriter.open(join(dir, shardFileName(k)), { ...dataset, images }));
  }
  const skips: SkipRecord[] = [];
  const kept: number[] = [];
  let crowd = 0;
  const skip = (entry: Omit<SkipRecord, "key" | "shardIndex">, position: number) => {
    const record: SkipRecord = { ...entry, shardIndex: shardOfImage.get(entry.imageId) ?? 0, key: skips.length };
    if (o.reject) throw rejection(record);
    skips.push(record);
    if (position >= 0) kept.push(position);
    o.onSkip?.(record);
  };
  // With crowd regions included every annotation is either yielded or reported, in file order:
  // the reports since the last yielded annotation are the positions in between.
  let seenErrors = firstAnnotationError;
  let nextPosition = 0;
  const drainReaderErrors = (upTo: number) => {
    const fresh = report.skipped.length - seenErrors;
    const exact = fresh === upTo - nextPosition;
    for (let k = 0; seenErrors < report.skipped.length; seenErrors++, k++) {
      const e = report.skipped[seenErrors]!;
      skip(fromCocoError(e, badImages, imageErrors, o.paths.root), exact ? nextPosition + k : -1);
    }
    nextPosition = upTo;
  };
  const fileChecks = new Map<number, Promise<{ reason: SkipReasonName; field: string; message: string } | undefined>>();
  const imageCheck = (image: CocoImage) => {
    let check = fileChecks.get(image.id);
    if (!check) {
      check = checkImageFile(o, image);
      fileChecks.set(image.id, check);
    }
    return check;
  };
  try {
    for await (const object of objects) {
      if (o.signal?.aborted) throw o.signal.reason;
      const position = report.read - 1;
      drainReaderErrors(position);
      nextPosition = position + 1;
      const a = object.annotation;
      if (a.iscrowd) {
        crowd++;
        kept.push(position);
        continue;
      }
      const base = { annotationId: a.id, imageId: object.image.id };
      const problem = await imageCheck(object.image);
      if (problem) {
        skip({ ...base, ...problem }, position);
        continue;
      }
      try {
        const [top, left, bottom, right] = object.extremePoints;
        extremePointsFromWire(
          {
            top: { x: top[0], y: top[1] },
            left: { x: left[0], y: left[1] },
            bottom: { x: bottom[0], y: bottom[1] },
            right: { x: right[0], y: right[1] },
          },
          "extreme_points",
          object.image,
        );
      } catch (e) {
        if (!(e instanceof ObjectInputError)) throw e;
        skip({ ...base, reason: skipReasonOfIssue(e.issueReason), field: e.field, message: e.message }, position);
        continue;
      }
      await writers[shardOfImage.get(object.image.id)!]!.write(a);
    }
    drainReaderErrors(report.read);
    for (const w of writers) await w.close();
  } catch (e) {
    for (const w of writers) await w.abort();
    if (e instanceof CocoFileError) throw new InvalidArgumentError("spec.input_annotations", e.problem);
    throw e;
  }
  await writeFileAtomic(join(dir, PLAN_SKIPPED_FILE), skips.map((s) => `${JSON.stringify(s)}\n`).join(""));
  const plan: ExportPlan = {
    format: "exits-export-plan",
    inputSha256,
    imagesTotal: dataset.images.length,
    annotationsTotal: report.read,
    crowd,
    shards: writers.map((w, k) => ({
      index: k,
      images: shardImages[k]!,
      annotations: w.written,
      input: join(PLAN_DIR, shardFileName(k)),
    })),
    skipped: skips.length,
    kept: o.keepSkipped ? kept.sort((a, b) => a - b) : [],
  };
  await writeFileAtomic(join(dir, PLAN_FILE), `${JSON.stringify(plan, null, 2)}\n`);
  return plan;
}

/** The plan's skipped annotations. */
export async function readPlanSkips(jobDir: string): Promise<SkipRecord[]> {
  const file = join(jobDir, PLAN_DIR, PLAN_SKIPPED_FILE);
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as SkipRecord);
}

function shardFileName(k: number): string {
  return `shard-${String(k).padStart(4, "0")}.json`;
}

function fromCocoError(
  e: CocoInputError,
  badImages: ReadonlySet<number>,
  imageErrors: ReadonlyMap<number, string>,
  root: string,
): Omit<SkipRecord, "key" | "shardIndex"> {
  const reason = skipReasonOfCocoError(e, badImages);
  const refersTo = Number(/^(-?\d+(?:\.\d+)?) is not the id/.exec(e.problem)?.[1]);
  const imageId = e.imageId ?? (Number.isFinite(refersTo) ? refersTo : 0);
  const own = `${e.field ? `${e.field}: ` : ""}${e.problem}`;
  const message = reason === "IMAGE_INVALID" && imageErrors.has(imageId) ? imageErrors.get(imageId)! : own;
  // Messages go to clients: no server paths.
  return {
    annotationId: e.annotationId ?? 0,
    imageId,
    reason,
    field: e.field ?? "",
    message: message.split(`${root}/`).join(""),
  };
}

async function checkImageFile(
  o: PlanOptions,
  image: CocoImage,
): Promise<{ reason: SkipReasonName; field: string; message: string } | undefined> {
  const field = `images[id=${image.id}].file_name`;
  try {
    o.paths.resolveUnder(field, o.imagesDir, image.file_name);
  } catch (e) {
    if (e instanceof InvalidArgumentError) return { reason: "IMAGE_INVALID", field, message: e.message };
    throw e;
  }
  const problem = await imageFileProblem(o.imagesDir, image);
  if (!problem) return undefined;
  const missing = problem[0] === "file_name" && /is missing/.test(problem[1]);
  // The reader's messages carry absolute paths; clients see the file name only.
  const message = missing
    ? `image file "${image.file_name}" is missing`
    : `image "${image.file_name}": ${problem[1].split(o.imagesDir).join("")}`;
  return {
    reason: missing ? "IMAGE_NOT_FOUND" : "IMAGE_INVALID",
    field: problem[0] === "file_name" ? field : `images[id=${image.id}].${problem[0]}`,
    message,
  };
}

/** Under INVALID_POLICY_REJECT the first skipped annotation fails the job, naming it and the field. */
function rejection(r: SkipRecord): DomainError {
  const field = `spec.input_annotations: annotation ${r.annotationId}${r.field ? `: ${r.field}` : ""}`;
  if (r.reason === "IMAGE_NOT_FOUND") return new NotFoundError(`${field}: ${r.message}; image`);
  return new InvalidArgumentError(field, `${r.message} (${r.reason.toLowerCase()})`);
}
