import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** A path under `../shared/data` beside the repository root, or a skip reason when absent. */
export function sharedDataPath(relative: string): { path?: string; skip?: string } {
  const root = process.env.EXITS_REPO_ROOT ?? resolve(import.meta.dirname, "../../..");
  const path = resolve(root, "../shared/data", relative);
  if (!existsSync(path)) return { skip: `../shared/data/${relative} is absent; test skipped` };
  return { path };
}
