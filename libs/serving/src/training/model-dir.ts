import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadModel, type ModelKind, type ModelManifest } from "@exits/exits";
import { InvalidArgumentError, NotFoundError } from "@exits/platform";
import type { DataPaths } from "../paths/data-paths.js";

/** Whether `dir` holds a finished model (its manifest is written last, so it marks completion). */
export function holdsModel(dir: string): boolean {
  return existsSync(join(dir, "manifest.json"));
}

/**
 * The model a client path at `field` names, pinned to one directory: the directory itself when it
 * holds manifest.json, else its newest version vN (the model registry's layout). NOT_FOUND when
 * there is none, INVALID_ARGUMENT when it holds another kind of model.
 */
export async function locateModel(
  paths: DataPaths,
  field: string,
  model: string,
  kind: ModelKind,
): Promise<{ dir: string; clientPath: string; manifest: ModelManifest }> {
  if (model === "") throw new InvalidArgumentError(field, "is required");
  let dir = paths.resolve(field, model);
  if (!holdsModel(dir)) {
    const versions = existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => /^v\d+$/.test(n) && holdsModel(join(dir, n)))
          .sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)))
      : [];
    if (versions.length === 0) throw new NotFoundError(`model "${model}" (${field})`);
    dir = paths.resolve(field, `${model.replace(/\/+$/, "")}/${versions[0]}`);
  }
  let manifest: ModelManifest;
  try {
    manifest = (await loadModel(dir)).manifest;
  } catch (e) {
    throw new InvalidArgumentError(field, (e as Error).message.replaceAll(paths.root, "<data>"));
  }
  if (manifest.kind !== kind)
    throw new InvalidArgumentError(field, `"${model}" holds a ${manifest.kind} model, expected a ${kind}`);
  return { dir, clientPath: paths.toClient(dir), manifest };
}
