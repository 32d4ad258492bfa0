import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A file every checkout and image holds; finding it identifies the repository root. */
const MARKER = join("proto", "exits", "v1", "similarity.proto");

/**
 * The repository root: `EXITS_REPO_ROOT` when set, else the nearest directory above this module
 * holding `proto/exits/v1/`. Walking up (instead of a fixed `../../..`) works from `src/` under
 * the SWC loader, from `dist/` after a build, and from a container image that copies both.
 */
export function findRepoRoot(from = HERE): string {
  const fromEnv = process.env["EXITS_REPO_ROOT"];
  if (fromEnv && existsSync(join(fromEnv, MARKER))) return resolve(fromEnv);
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER))) return dir;
    if (dirname(dir) === dir) throw new Error(`no ${MARKER} in any directory above ${from}`);
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Absolute path of the repository's `proto/` directory: the include root for every exits.v1 file.
 * When no `proto/` is found (an image that forgot to copy it) this is where it should have been,
 * `libs/contracts/../../proto`, so importing never throws and the loader names the missing file.
 */
export const PROTO_ROOT: string = (() => {
  try {
    return join(findRepoRoot(), "proto");
  } catch {
    return resolve(HERE, "..", "..", "..", "proto");
  }
})();
