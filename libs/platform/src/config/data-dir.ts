import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./config-error.js";

/**
 * Makes sure `dir` (EXITS_DATA_DIR) is a directory this process can write, creating it if
 * absent; otherwise a `ConfigError` at startup rather than a failed job hours later. Writability
 * is tried with a real file, since permission bits say nothing for root or read-only mounts.
 */
export function ensureDataDir(dir: string, variable = "EXITS_DATA_DIR"): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ConfigError(variable, `${dir} is not a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(variable, `cannot create ${dir}: ${describe(error)}`);
  }
  const probe = join(dir, `.exits-write-check-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    writeFileSync(probe, "");
  } catch (error) {
    throw new ConfigError(variable, `${dir} is not writable: ${describe(error)}`);
  }
  rmSync(probe, { force: true });
}

function describe(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}
