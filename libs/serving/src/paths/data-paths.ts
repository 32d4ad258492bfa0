import { existsSync, lstatSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { InvalidArgumentError } from "@exits/platform";

/**
 * The data directory (EXITS_DATA_DIR) as a security boundary. Every path a client sends is a
 * relative POSIX path inside it; `resolve` turns one into an absolute path or refuses it with
 * INVALID_ARGUMENT naming the request field: absolute paths, `..` segments, backslashes, NUL
 * bytes, and symlinks anywhere on the way that lead outside. Paths sent back to clients go
 * through `toClient`, relative to the directory, so no server layout leaks.
 */
export class DataPaths {
  /** The data directory, with symlinks resolved (so containment checks compare real paths). */
  readonly root: string;

  constructor(dataDir: string) {
    this.root = realpathSync(resolve(dataDir));
  }

  /**
   * `path` (as the client sent it, in `field`) inside the data directory. With `mustExist`, a
   * missing file is NOT_FOUND-worthy and reported by the caller; here only containment is checked:
   * the deepest existing ancestor (the path itself when it exists) must resolve inside the root.
   */
  resolve(field: string, path: string, options: { allowEmpty?: boolean } = {}): string {
    if (path === "") {
      if (options.allowEmpty) return this.root;
      throw new InvalidArgumentError(field, "is empty; give a path inside the data directory");
    }
    if (path.includes("\0")) throw new InvalidArgumentError(field, "contains a NUL byte");
    if (path.includes("\\")) throw new InvalidArgumentError(field, `"${path}" contains a backslash; use "/"`);
    if (isAbsolute(path) || /^[A-Za-z]:/.test(path))
      throw new InvalidArgumentError(field, `"${path}" is absolute; give a path relative to the data directory`);
    const segments = path.split("/");
    if (segments.includes(".."))
      throw new InvalidArgumentError(field, `"${path}" has a ".." segment; paths stay inside the data directory`);
    const absolute = join(this.root, ...segments.filter((s) => s !== "" && s !== "."));
    this.assertInside(field, path, absolute);
    return absolute;
  }

  /** Like `resolve`, for a path relative to a directory already inside the root (e.g. `file_name` in a COCO file). */
  resolveUnder(field: string, base: string, path: string): string {
    const rel = relative(this.root, base);
    if (rel.startsWith("..") || isAbsolute(rel))
      throw new InvalidArgumentError(field, "base lies outside the data directory");
    return this.resolve(field, rel === "" ? path : `${rel.split(sep).join("/")}/${path}`);
  }

  /** An absolute path inside the root as clients see it: relative, with "/" separators. */
  toClient(absolute: string): string {
    const rel = relative(this.root, absolute);
    if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`${absolute} is outside the data directory`);
    return rel.split(sep).join("/");
  }

  private assertInside(field: string, original: string, absolute: string): void {
    // Walk up to the deepest component that exists; its real path must stay inside the root. A
    // dangling symlink is refused as well: what it would create is not ours to say.
    let probe = absolute;
    while (!existsSync(probe)) {
      if (isDanglingLink(probe))
        throw new InvalidArgumentError(field, `"${original}" passes through a broken symbolic link`);
      const parent = dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
    const real = realpathSync(probe);
    const rel = relative(this.root, real);
    if (rel.startsWith("..") || isAbsolute(rel))
      throw new InvalidArgumentError(field, `"${original}" leads outside the data directory through a symbolic link`);
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
