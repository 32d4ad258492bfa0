import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A Kubernetes object as parsed from YAML or JSON. */
// biome-ignore lint/suspicious/noExplicitAny: objects are checked field by field by the tests
export type K8sObject = Record<string, any>;

export const repoRoot = new URL("../../", import.meta.url).pathname;
export const chartDir = join(repoRoot, "charts/exits");
const rendererDir = join(repoRoot, "tools/helm-render");

function which(command: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function goBinary(): string | undefined {
  const candidates = [process.env.EXITS_GO, which("go"), "/usr/lib/go-1.19/bin/go"];
  return candidates.find((c): c is string => Boolean(c && existsSync(c)));
}

let built: { path?: string; skip?: string } | undefined;

/**
 * Builds tools/helm-render once per source version (GOPATH mode, Debian's Go libraries) into a
 * directory under the temp dir named by the sources' hash, so that every test file and later
 * runs reuse it. Returns a skip reason instead where Go or its libraries are missing.
 */
export function helmRender(): { path?: string; skip?: string } {
  built ??= buildRenderer();
  return built;
}

function buildRenderer(): { path?: string; skip?: string } {
  const go = goBinary();
  if (!go) return { skip: "Go is not installed (Debian: golang-1.19-go); the chart tests need it" };
  const gopath = process.env.EXITS_GOPATH ?? "/usr/share/gocode";
  if (
    !existsSync(join(gopath, "src/github.com/Masterminds/sprig")) ||
    !existsSync(join(gopath, "src/sigs.k8s.io/yaml"))
  )
    return {
      skip: `sprig or sigs.k8s.io/yaml missing under ${gopath} (Debian: golang-github-masterminds-sprig-dev, golang-k8s-sigs-yaml-dev)`,
    };
  const hash = createHash("sha256");
  for (const file of readdirSync(rendererDir).sort()) hash.update(file).update(readFileSync(join(rendererDir, file)));
  const dir = join(tmpdir(), `exits-helm-render-${hash.digest("hex").slice(0, 16)}`);
  const path = join(dir, "helm-render");
  if (existsSync(path)) return { path };
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(dir, "build-"));
  const result = spawnSync(go, ["build", "-o", join(scratch, "helm-render"), "."], {
    cwd: rendererDir,
    encoding: "utf8",
    env: {
      ...process.env,
      GOPATH: gopath,
      GO111MODULE: "off",
      GOFLAGS: "",
      GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "exits-go-cache"),
    },
  });
  if (result.status !== 0) throw new Error(`go build tools/helm-render failed:\n${result.stderr}`);
  renameSync(join(scratch, "helm-render"), path); // atomic: a parallel test file sees all or nothing
  rmSync(scratch, { recursive: true, force: true });
  return { path };
}

export function kubectl(): string | undefined {
  return which("kubectl");
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runRenderer(args: readonly string[], input?: string): RunResult {
  const { path } = helmRender();
  if (!path) throw new Error("helm-render is not available");
  const r = spawnSync(path, args, { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Rendered {
  readonly source: string;
  readonly object: K8sObject;
}

/** `helm template`-like render of charts/exits; extra args are renderer flags (-f, --set, ...). */
export function renderChart(...args: string[]): Rendered[] {
  const r = runRenderer(["--output", "json", ...args, chartDir]);
  if (r.status !== 0) throw new Error(`helm-render failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Rendered[];
}

/** The error output of a render that must fail. */
export function renderFailure(...args: string[]): string {
  const r = runRenderer(["--output", "json", ...args, chartDir]);
  if (r.status === 0) throw new Error(`helm-render succeeded with ${args.join(" ")}; expected a failure`);
  return r.stderr;
}

/** `kubectl kustomize <dir>` parsed into objects (YAML → JSON by helm-render --yaml2json). */
export function kustomize(dir: string): K8sObject[] {
  const bin = kubectl();
  if (!bin) throw new Error("kubectl is not available");
  const built = spawnSync(bin, ["kustomize", join(repoRoot, dir)], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (built.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${built.stderr}`);
  const json = runRenderer(["--yaml2json"], built.stdout);
  if (json.status !== 0) throw new Error(`yaml2json failed: ${json.stderr}`);
  return JSON.parse(json.stdout) as K8sObject[];
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`);
  return found;
}

/** Does a label selector (matchLabels and matchExpressions) select these labels? */
export function selects(selector: K8sObject, labels: Readonly<Record<string, string>>): boolean {
  const matchLabels: Record<string, string> = selector.matchLabels ?? {};
  if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return Object.keys(matchLabels).length > 0 || (selector.matchExpressions ?? []).length > 0;
}

export function container(deployment: K8sObject): K8sObject {
  return deployment.spec.template.spec.containers[0];
}

export function envValue(c: K8sObject, name: string): string | undefined {
  return c.env?.find((e: K8sObject) => e.name === name)?.value;
}
