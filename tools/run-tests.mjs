// Runs every `*.spec.ts` under libs/, services/ and tests/ with node's test runner.
// Usage: node tools/run-tests.mjs [path-filter ...]   e.g. `npm test -- libs/dataset`
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const skipDirs = new Set(["node_modules", "dist", ".git"]);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".spec.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ["libs", "services", "tests"]
  .flatMap((top) => collect(join(root, top), []))
  .filter((file) => filters.length === 0 || filters.some((f) => file.startsWith(f) || file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no spec files match ${filters.join(" ") || "(all)"}`);
  process.exit(1);
}

// A hanging test fails after this long instead of stalling CI (the slowest, the CLI demo and the
// SIGKILL-resume tests, take well under a minute here). EXITS_TEST_TIMEOUT_MS overrides it.
const timeoutMs = Number(process.env.EXITS_TEST_TIMEOUT_MS ?? 300_000);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(
    `EXITS_TEST_TIMEOUT_MS must be a positive integer of milliseconds, got "${process.env.EXITS_TEST_TIMEOUT_MS}"`,
  );
  process.exit(2);
}

const result = spawnSync(
  process.execPath,
  [
    "--conditions=source",
    "--import",
    "./tools/register.mjs",
    "--test",
    "--test-reporter=spec",
    `--test-timeout=${timeoutMs}`,
    ...files,
  ],
  { cwd: root, stdio: "inherit", env: { ...process.env, EXITS_REPO_ROOT: root } },
);
process.exit(result.status ?? 1);
