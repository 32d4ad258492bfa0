// What the image must be (issue 10, item 1), as checks over a parsed Dockerfile. Each returns the
// problems it finds, so the spec can show both that the real Dockerfile passes and that a broken
// one is caught.
import {
  baseImage,
  type Dockerfile,
  findStage,
  type Instruction,
  parseCopy,
  type Stage,
  splitWords,
  stageChain,
  stageEnv,
} from "./dockerfile-parser.js";

/** Facts read from the repository, not restated by hand. */
export interface RepoFacts {
  /** onnxruntime-node's version in package-lock.json. */
  readonly ortVersion: string;
  /** CUDA major of onnxruntime-node's CUDA provider (its install manifest "cudaNN" for linux/x64). */
  readonly ortCudaMajor: number;
  /** onnxruntime-node's postinstall script, as a path under node_modules (no extension). */
  readonly ortInstallScript: string;
  /** The `exits` bin of libs/cli, relative to the repository root. */
  readonly cliEntry: string;
  readonly serviceNames: readonly string[];
  readonly grpcPorts: readonly number[];
  /** The Node major of package.json's engines. */
  readonly nodeMajor: number;
}

export const TARGETS = ["cpu", "cuda"] as const;

const runs = (stage: Stage): Instruction[] => stage.instructions.filter((i) => i.keyword === "RUN");
const npmInstalls = (run: Instruction): string[] =>
  run.args.split(/&&|;|\|\|/).filter((c) => /\bnpm\s+(ci|install|i)\b/.test(c));
const isProdInstall = (command: string) => /--omit[= ]dev\b|--production\b|--only[= ]prod/.test(command);

/** Stages that install dev dependencies (an npm ci/install without --omit=dev), or stand on one. */
function isDevStage(file: Dockerfile, stage: Stage): boolean {
  return stageChain(file, stage).some((s) => runs(s).some((r) => npmInstalls(r).some((c) => !isProdInstall(c))));
}

function isProdDepsStage(file: Dockerfile, stage: Stage): boolean {
  return stageChain(file, stage).some((s) => runs(s).some((r) => npmInstalls(r).some(isProdInstall)));
}

function target(file: Dockerfile, name: string): Stage | undefined {
  return file.stages.find((s) => s.name === name);
}

/** Every stage whose files a target contains: its own chain and, recursively, its COPY --from sources. */
function feedingStages(file: Dockerfile, stage: Stage, seen = new Set<Stage>()): Set<Stage> {
  for (const s of stageChain(file, stage)) {
    if (seen.has(s)) continue;
    seen.add(s);
    for (const i of s.instructions) {
      if (i.keyword !== "COPY" && i.keyword !== "ADD") continue;
      const from = parseCopy(i).from;
      const source = from === undefined ? undefined : findStage(file, from);
      if (source) feedingStages(file, source, seen);
    }
  }
  return seen;
}

const last = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1);

export function checkTargets(file: Dockerfile): string[] {
  const problems = TARGETS.filter((t) => !target(file, t)).map((t) => `no stage named "${t}"`);
  const names = file.stages.flatMap((s) => (s.name ? [s.name] : []));
  for (const n of new Set(names))
    if (names.filter((x) => x === n).length > 1) problems.push(`stage name "${n}" used twice`);
  return problems;
}

export function checkUser(file: Dockerfile): string[] {
  const problems: string[] = [];
  for (const name of TARGETS) {
    const stage = target(file, name);
    if (!stage) continue;
    const user = stageChain(file, stage)
      .map((s) => last(s, "USER"))
      .find((u) => u !== undefined);
    if (!user) {
      problems.push(`${name}: no USER (runs as root)`);
      continue;
    }
    const uid = user.args.split(":")[0]!.trim();
    if (!/^\d+$/.test(uid))
      problems.push(`${name}: USER "${uid}" is not numeric; Kubernetes' runAsNonRoot can only verify a UID`);
    else if (Number(uid) === 0) problems.push(`${name}: USER is root`);
  }
  return problems;
}

/** No dev dependency reaches a target: only dist/ trees from dev stages, node_modules from prod ones. */
export function checkNoDevDependencies(file: Dockerfile): string[] {
  const problems: string[] = [];
  if (
    !file.stages.some((s) =>
      runs(s).some((r) => npmInstalls(r).some((c) => /\bnpm\s+ci\b/.test(c) && isProdInstall(c))),
    )
  )
    problems.push("no `npm ci --omit=dev`");
  for (const name of TARGETS) {
    const stage = target(file, name);
    if (!stage) continue;
    if (isDevStage(file, stage)) problems.push(`${name}: is built on a stage with dev dependencies`);
    let nodeModulesFromProd = false;
    for (const i of stage.instructions) {
      if (i.keyword === "ADD") problems.push(`${name}: line ${i.line}: ADD (use COPY)`);
      if (i.keyword !== "COPY") continue;
      const copy = parseCopy(i);
      const source = copy.from === undefined ? undefined : findStage(file, copy.from);
      if (copy.from === undefined) {
        for (const src of copy.sources) {
          const top = src.replace(/^\.\//, "").split("/")[0];
          if (["", ".", "libs", "services", "node_modules", "tools", "tests"].includes(top ?? ""))
            problems.push(
              `${name}: line ${i.line}: copies "${src}" from the build context (sources or host node_modules)`,
            );
        }
        continue;
      }
      if (!source) continue; // an external image, e.g. a binary from a published image
      if (isDevStage(file, source)) {
        for (const src of copy.sources)
          if (!src.split("/").includes("dist"))
            problems.push(
              `${name}: line ${i.line}: copies "${src}" from dev stage "${copy.from}" (only dist/ trees may come from it)`,
            );
      } else if (isProdDepsStage(file, source)) {
        nodeModulesFromProd = true;
      }
    }
    if (!nodeModulesFromProd) problems.push(`${name}: takes node_modules from no \`npm ci --omit=dev\` stage`);
  }
  return problems;
}

/**
 * npm 10 (in the node:20 images) ignores package.json's "allowScripts", so without
 * --ignore-scripts onnxruntime-node's postinstall downloads the CUDA provider into every stage.
 */
export function checkInstallScripts(file: Dockerfile, facts: RepoFacts): string[] {
  const problems: string[] = [];
  for (const stage of file.stages)
    for (const run of runs(stage))
      for (const command of npmInstalls(run))
        if (!/--ignore-scripts\b/.test(command) && stageEnv(file, stage)["ONNXRUNTIME_NODE_INSTALL"] !== "skip")
          problems.push(`line ${run.line}: \`${command.trim()}\` runs install scripts (npm 10 ignores allowScripts)`);
  const cpu = target(file, "cpu");
  const cuda = target(file, "cuda");
  const installsCuda = (s: Stage) =>
    runs(s).some((r) => r.args.includes(facts.ortInstallScript)) &&
    (stageEnv(file, s)["ONNXRUNTIME_NODE_INSTALL"] === "cuda12" ||
      /ONNXRUNTIME_NODE_INSTALL=cuda12\b/.test(
        runs(s)
          .map((r) => r.args)
          .join("\n"),
      ));
  if (cpu && [...feedingStages(file, cpu)].some((s) => runs(s).some((r) => r.args.includes(facts.ortInstallScript))))
    problems.push("cpu: a stage it is built from runs onnxruntime-node's CUDA install");
  if (cuda && ![...feedingStages(file, cuda)].some(installsCuda))
    problems.push(
      `cuda: no stage it is built from runs ${facts.ortInstallScript} with ONNXRUNTIME_NODE_INSTALL=cuda${facts.ortCudaMajor}`,
    );
  return problems;
}

const CUDA_TAG = /^nvidia\/cuda:(\d+)\.(\d+)(?:\.(\d+))?-cudnn(\d*)-runtime-ubuntu\d+\.\d+$/;

export function checkBaseImages(file: Dockerfile, facts: RepoFacts): string[] {
  const problems: string[] = [];
  const cpu = target(file, "cpu");
  const cuda = target(file, "cuda");
  const nodeTag = new RegExp(`^node:${facts.nodeMajor}(\\.[\\d.]+)?-(bookworm|bullseye)(-slim)?$`);
  if (cpu && !nodeTag.test(baseImage(file, cpu)))
    problems.push(`cpu: base "${baseImage(file, cpu)}" is not a Node ${facts.nodeMajor} Debian image`);
  if (!cuda) return problems;
  const base = baseImage(file, cuda);
  const m = CUDA_TAG.exec(base);
  if (!m) {
    problems.push(`cuda: base "${base}" is not an nvidia/cuda <version>-cudnn-runtime-ubuntu image`);
  } else {
    const [major, minor, cudnn] = [Number(m[1]), Number(m[2]), m[4]];
    if (major !== facts.ortCudaMajor)
      problems.push(`cuda: CUDA ${major} base, onnxruntime-node ${facts.ortVersion} wants CUDA ${facts.ortCudaMajor}`);
    // ORT >= 1.19 CUDA 12 builds link cuDNN 9; nvidia/cuda 12.x tags say "cudnn" for cuDNN 9 from 12.4 on.
    const cudnnMajor = cudnn !== "" ? Number(cudnn) : major === 12 && minor >= 4 ? 9 : major > 12 ? 9 : 8;
    const [ortMajor, ortMinor] = facts.ortVersion.split(".").map(Number) as [number, number];
    if ((ortMajor > 1 || ortMinor >= 19) && cudnnMajor !== 9)
      problems.push(`cuda: base has cuDNN ${cudnnMajor}, onnxruntime-node ${facts.ortVersion} wants cuDNN 9`);
  }
  const node = cuda.instructions
    .filter((i) => i.keyword === "COPY")
    .map(parseCopy)
    .find((c) => c.sources.includes("/usr/local/bin/node"));
  const nodeStage = node?.from === undefined ? undefined : findStage(file, node.from);
  if (!nodeStage || !new RegExp(`^node:${facts.nodeMajor}\\b`).test(baseImage(file, nodeStage)))
    problems.push(`cuda: no Node ${facts.nodeMajor} binary copied from an official node image stage`);
  return problems;
}

export function checkRuntime(file: Dockerfile, facts: RepoFacts): string[] {
  const problems: string[] = [];
  for (const name of TARGETS) {
    const stage = target(file, name);
    if (!stage) continue;
    const chain = stageChain(file, stage);
    const find = (k: string) => chain.map((s) => last(s, k)).find((i) => i !== undefined);
    const entrypoint = find("ENTRYPOINT");
    const exec = entrypoint?.exec;
    if (!exec) problems.push(`${name}: ENTRYPOINT missing or not in exec form (signals must reach node)`);
    else if (exec[0] !== "node" || !exec[1]?.endsWith(facts.cliEntry))
      problems.push(`${name}: ENTRYPOINT ${JSON.stringify(exec)} does not run the exits CLI (${facts.cliEntry})`);
    const cmd = find("CMD")?.exec;
    if (cmd?.[0] !== "serve" || !facts.serviceNames.includes(cmd[1] ?? ""))
      problems.push(`${name}: CMD ${JSON.stringify(cmd)} is not ["serve", <service>]`);
    const healthcheck = find("HEALTHCHECK");
    if (healthcheck && !/^NONE$/i.test(healthcheck.args) && !/grpc/i.test(healthcheck.args))
      problems.push(`${name}: HEALTHCHECK "${healthcheck.args}" is not a gRPC health check`);
    if (find("WORKDIR")?.args !== "/app") problems.push(`${name}: WORKDIR is not /app`);
    const env = stageEnv(file, stage);
    const dataDir = env["EXITS_DATA_DIR"];
    if (!dataDir?.startsWith("/")) problems.push(`${name}: EXITS_DATA_DIR is not an absolute path`);
    // A read-only root filesystem: HOME must point at a mount that is writable (/tmp or the data dir).
    if (!(env["HOME"] === "/tmp" || (dataDir && env["HOME"]?.startsWith(dataDir))))
      problems.push(`${name}: HOME is not /tmp or inside the data directory`);
    const volumes = chain
      .flatMap((s) => s.instructions.filter((i) => i.keyword === "VOLUME"))
      .flatMap((i) => i.exec ?? splitWords(i.args));
    if (dataDir && !volumes.includes(dataDir)) problems.push(`${name}: no VOLUME ${dataDir}`);
    const uid = find("USER")?.args.split(":")[0];
    const chowned = chain.some((s) =>
      runs(s).some((r) => dataDir && new RegExp(`chown\\s+(-R\\s+)?${uid}(:\\d+)?\\s+${dataDir}\\b`).test(r.args)),
    );
    if (!chowned) problems.push(`${name}: ${dataDir} is not chowned to the USER ${uid}`);
    const exposed = new Set(
      chain
        .flatMap((s) => s.instructions.filter((i) => i.keyword === "EXPOSE"))
        .flatMap((i) => splitWords(i.args).map((p) => Number.parseInt(p, 10))),
    );
    for (const port of facts.grpcPorts)
      for (const p of [port, port + 1000]) if (!exposed.has(p)) problems.push(`${name}: port ${p} not exposed`);
  }
  const build = file.stages.find(
    (s) => isDevStage(file, s) && runs(s).some((r) => /node tools\/build\.mjs|npm run build/.test(r.args)),
  );
  if (!build) problems.push("no stage compiles the sources (node tools/build.mjs)");
  return problems;
}

/** The context must not carry the host's node_modules or dist into `COPY libs ./libs`. */
export function checkDockerignore(text: string): string[] {
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const problems: string[] = [];
  for (const dir of ["node_modules", "dist"])
    if (!patterns.some((p) => p === `**/${dir}` || p === `**/${dir}/`)) problems.push(`.dockerignore lacks **/${dir}`);
  return problems;
}
