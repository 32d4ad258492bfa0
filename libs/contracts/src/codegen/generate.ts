import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { findRepoRoot } from "../proto-root.js";
import { writeDescriptorModule } from "./descriptor-module.js";
import { TS_PROTO_OPTIONS } from "./ts-proto-options.js";

/** Paths the generator works with, all absolute. */
export interface CodegenPaths {
  repoRoot: string;
  /** `proto/`: the include root; files are named `exits/v1/x.proto` relative to it. */
  protoRoot: string;
  /** Committed output: `libs/contracts/src/generated`. */
  generatedDir: string;
  /** protoc binary: $PROTOC, else Debian's /usr/bin/protoc, else `protoc` on PATH. */
  protoc: string;
  /** ts-proto's plugin executable in node_modules/.bin. */
  plugin: string;
}

export function codegenPaths(repoRoot = findRepoRoot()): CodegenPaths {
  const protoc = process.env["PROTOC"] ?? (existsSync("/usr/bin/protoc") ? "/usr/bin/protoc" : "protoc");
  return {
    repoRoot,
    protoRoot: join(repoRoot, "proto"),
    generatedDir: join(repoRoot, "libs", "contracts", "src", "generated"),
    protoc,
    plugin: join(repoRoot, "node_modules", ".bin", "protoc-gen-ts_proto"),
  };
}

/** Why protoc cannot run here (tests skip with this message), or undefined when it can. */
export function protocUnavailable(paths = codegenPaths()): string | undefined {
  const probe = spawnSync(paths.protoc, ["--version"], { encoding: "utf8" });
  if (!probe.error && probe.status === 0) return undefined;
  return `cannot run protoc (${paths.protoc}): install Debian's protobuf-compiler or set PROTOC`;
}

/** Every `.proto` below `protoRoot`, relative to it, sorted (protoc's input order fixes output order). */
export function listProtoFiles(protoRoot: string): string[] {
  return listFiles(protoRoot)
    .filter((file) => file.endsWith(".proto"))
    .map((file) => relative(protoRoot, file).split("\\").join("/"))
    .sort();
}

/** Runs protoc + ts-proto, then the descriptor-set module, into `outDir` (created, must be empty or absent). Throws with protoc's stderr. */
export function generateInto(outDir: string, paths = codegenPaths()): string[] {
  mkdirSync(outDir, { recursive: true });
  const files = listProtoFiles(paths.protoRoot);
  const result = spawnSync(
    paths.protoc,
    [
      `--plugin=protoc-gen-ts_proto=${paths.plugin}`,
      `--ts_proto_out=${outDir}`,
      `--ts_proto_opt=${TS_PROTO_OPTIONS.join(",")}`,
      `-I${paths.protoRoot}`,
      ...files,
    ],
    { cwd: paths.protoRoot, encoding: "utf8" },
  );
  if (result.error) throw new Error(`cannot run ${paths.protoc}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`protoc failed (exit ${result.status}):\n${result.stderr}`);
  writeDescriptorModule(outDir, paths, files);
  return listFiles(outDir).map((file) => relative(outDir, file));
}

/** Regenerates the committed output in place (stale files removed). */
export function regenerate(paths = codegenPaths()): string[] {
  const staging = mkdtempSync(join(tmpdir(), "exits-contracts-"));
  try {
    const files = generateInto(staging, paths);
    rmSync(paths.generatedDir, { recursive: true, force: true });
    for (const file of files) {
      const target = join(paths.generatedDir, file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(join(staging, file)));
    }
    return files;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** One way the committed output differs from a fresh generation. */
export interface CodegenDifference {
  file: string;
  problem: "missing" | "stale" | "changed";
}

/** Generates into a temporary directory and lists every difference from the committed output. */
export function diffGenerated(paths = codegenPaths()): CodegenDifference[] {
  const staging = mkdtempSync(join(tmpdir(), "exits-contracts-"));
  try {
    const fresh = new Set(generateInto(staging, paths));
    const committed = new Set(
      existsSync(paths.generatedDir) ? listFiles(paths.generatedDir).map((f) => relative(paths.generatedDir, f)) : [],
    );
    const differences: CodegenDifference[] = [];
    for (const file of [...new Set([...fresh, ...committed])].sort()) {
      if (!committed.has(file)) differences.push({ file, problem: "missing" });
      else if (!fresh.has(file)) differences.push({ file, problem: "stale" });
      else if (!readFileSync(join(staging, file)).equals(readFileSync(join(paths.generatedDir, file)))) {
        differences.push({ file, problem: "changed" });
      }
    }
    return differences;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function listFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) listFiles(path, out);
    else out.push(path);
  }
  return out;
}
