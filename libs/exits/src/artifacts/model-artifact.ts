import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@exits/base";
import { type HostTensor, readSafetensors, writeSafetensors } from "@exits/runtime";
import type { MethodConfig } from "../config/method-config.js";

/** What kind of model a directory holds. */
export type ModelKind = "extractor" | "generator";

/**
 * The manifest beside a model's weights: what it is, the configuration that produced it, how it
 * was trained, and (for the extractor) the retrieval sweep that tuned it.
 */
export interface ModelManifest {
  format: "exits-model";
  version: 1;
  kind: ModelKind;
  createdAt: string;
  config: MethodConfig;
  training: Record<string, unknown>;
  /** Inputs the model depends on (dataset file, extractor directory), with their SHA-256. */
  inputs: Record<string, unknown>;
  sweep?: unknown;
}

const WEIGHTS = "weights.safetensors";
const MANIFEST = "manifest.json";

/** Writes `dir/weights.safetensors` then `dir/manifest.json`, each atomically: a model with a manifest is complete. */
export async function saveModel(
  dir: string,
  parameters: ReadonlyMap<string, HostTensor>,
  manifest: Omit<ModelManifest, "format" | "version" | "createdAt">,
): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, WEIGHTS), new Map(parameters), { metadata: { kind: manifest.kind } });
  const full: ModelManifest = { format: "exits-model", version: 1, createdAt: new Date().toISOString(), ...manifest };
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Reads a model directory written by {@link saveModel}; names the file and what is wrong otherwise. */
export async function loadModel(
  dir: string,
  kind?: ModelKind,
): Promise<{ manifest: ModelManifest; parameters: Map<string, HostTensor> }> {
  const path = join(dir, MANIFEST);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(path, "utf8")) as ModelManifest;
  } catch (e) {
    throw new Error(`${path}: not a readable exits model manifest (${(e as Error).message})`);
  }
  if (manifest.format !== "exits-model") throw new Error(`${path}: format is not "exits-model"`);
  if (kind && manifest.kind !== kind) throw new Error(`${path}: holds a ${manifest.kind}, expected a ${kind}`);
  const { tensors } = await readSafetensors(join(dir, WEIGHTS));
  return { manifest, parameters: tensors };
}

/** Rewrites a model's manifest (e.g. to record a sweep), weights untouched. */
export async function updateManifest(dir: string, change: (m: ModelManifest) => ModelManifest): Promise<ModelManifest> {
  const { manifest } = await loadModel(dir);
  const next = change(manifest);
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(next, null, 2)}\n`);
  return next;
}
