import { createReadStream } from "node:fs";
import { CocoFileError } from "./coco-file-error.js";
import type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage } from "./coco-types.js";
import { JsonTopLevelScanner, type TopLevelEvent } from "./json-top-level-scanner.js";

/** The three streamed sections of a COCO instance file. */
export type CocoSection = "images" | "annotations" | "categories";

/** A batch of consecutive entries of one section, in file order, or another top-level value. */
export type CocoBatch =
  | { section: "images"; items: CocoImage[] }
  | { section: "annotations"; items: CocoAnnotation[] }
  | { section: "categories"; items: CocoCategory[] }
  | { section: "other"; key: string; value: unknown };

/** Options of the streaming readers. */
export interface CocoReadOptions {
  /** Sections to scan past without parsing (e.g. annotations while reading the header). */
  skip?: CocoSection[];
  /** Read size in bytes (default 1 MiB); memory use is about this plus one entry. */
  chunkSize?: number;
}

const SECTIONS = new Set<string>(["images", "annotations", "categories"]);

/**
 * Streams a COCO instance JSON file as batches of entries in file order (whatever order its
 * keys come in: official files put `categories` after `annotations`). Memory stays bounded by
 * the chunk size, so a train2017-sized file (≈ 450 MB) reads in a few hundred MB. Malformed
 * JSON, or a section that is not an array, throws `CocoFileError` (whatever the chunk size).
 */
export async function* readCocoBatches(path: string, options: CocoReadOptions = {}): AsyncGenerator<CocoBatch> {
  const skip = new Set<string>(options.skip ?? []);
  const scanner = new JsonTopLevelScanner(
    (key) => (skip.has(key) ? "skip" : SECTIONS.has(key) ? "elements" : "value"),
    path,
  );
  const stream = createReadStream(path, { highWaterMark: options.chunkSize ?? 1 << 20 });
  const events: TopLevelEvent[] = [];
  for await (const chunk of stream) {
    scanner.feed(chunk as Buffer, events);
    for (const e of events) yield toBatch(e, path);
    events.length = 0;
  }
  scanner.end();
}

function toBatch(e: TopLevelEvent, path: string): CocoBatch {
  if (e.kind === "elements") return { section: e.key, items: e.values } as CocoBatch;
  if (SECTIONS.has(e.key)) throw new CocoFileError(path, `"${e.key}" is not an array`);
  return { section: "other", key: e.key, value: e.value };
}

/** One entry of a COCO file, as yielded by `readCocoEntries`. */
export type CocoEntry =
  | { kind: "image"; value: CocoImage }
  | { kind: "annotation"; value: CocoAnnotation }
  | { kind: "category"; value: CocoCategory }
  | { kind: "other"; key: string; value: unknown };

const KIND = { images: "image", annotations: "annotation", categories: "category" } as const;

/** Async iterator over every image, annotation and category (and other top-level values). */
export async function* readCocoEntries(path: string, options: CocoReadOptions = {}): AsyncGenerator<CocoEntry> {
  for await (const batch of readCocoBatches(path, options)) {
    if (batch.section === "other") yield { kind: "other", key: batch.key, value: batch.value };
    else for (const value of batch.items) yield { kind: KIND[batch.section], value } as CocoEntry;
  }
}

/** Async iterator over the annotations only (images and categories are scanned past). */
export async function* readCocoAnnotations(
  path: string,
  options: CocoReadOptions = {},
): AsyncGenerator<CocoAnnotation> {
  for await (const batch of readCocoBatches(path, { ...options, skip: ["images", "categories"] })) {
    if (batch.section === "annotations") yield* batch.items;
  }
}

/**
 * Everything but the annotations (info, licenses, images, categories, other keys), read in one
 * streaming pass that scans past the annotations without parsing them.
 */
export async function readCocoDataset(path: string, options: CocoReadOptions = {}): Promise<CocoDataset> {
  const dataset: CocoDataset = { images: [], categories: [] };
  for await (const batch of readCocoBatches(path, { ...options, skip: ["annotations"] })) {
    if (batch.section === "images") for (const x of batch.items) dataset.images.push(x);
    else if (batch.section === "categories") for (const x of batch.items) dataset.categories.push(x);
    else if (batch.section === "other") {
      if (batch.key === "info") dataset.info = batch.value;
      else if (batch.key === "licenses" && Array.isArray(batch.value)) dataset.licenses = batch.value;
      else {
        dataset.extra ??= {};
        dataset.extra[batch.key] = batch.value;
      }
    }
  }
  return dataset;
}
