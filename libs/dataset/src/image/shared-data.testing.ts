import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** `../shared/data` beside the repository root, or undefined when absent (tests then skip). */
export function sharedDataDir(): string | undefined {
  const root = process.env.EXITS_REPO_ROOT ?? resolve(import.meta.dirname, "../../../..");
  const dir = resolve(root, "../shared/data");
  return existsSync(dir) ? dir : undefined;
}

/** The coco-tiny directory, or a skip reason. */
export function cocoTinyDir(): { dir?: string; skip?: string } {
  const data = sharedDataDir();
  const dir = data ? resolve(data, "coco-tiny") : undefined;
  if (!dir || !existsSync(dir)) return { skip: "../shared/data/coco-tiny is absent; real-image test skipped" };
  return { dir };
}
