// The container image (issue 10, item 1), checked without a Docker engine (none runs on these
// machines): the Dockerfile is parsed and its stages, users, copies, base images and runtime
// settings are held against facts read from the repository (package-lock.json,
// onnxruntime-node's install manifest, libs/cli's bin, the default ports). Each check also meets a
// broken variant, so a regression in the Dockerfile or in a check cannot pass silently.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { SERVICE_PROTOS } from "@exits/contracts";
import { DEFAULT_GRPC_PORTS } from "@exits/platform";
import {
  checkBaseImages,
  checkDockerignore,
  checkInstallScripts,
  checkNoDevDependencies,
  checkRuntime,
  checkTargets,
  checkUser,
  type RepoFacts,
} from "./dockerfile-checks.js";
import { parseCopy, parseDockerfile, parseInstructions, parsePairs, stageChain } from "./dockerfile-parser.js";

const repo = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(repo, path), "utf8");
const dockerfileText = read("Dockerfile");
const dockerfile = parseDockerfile(dockerfileText);

function repoFacts(): RepoFacts {
  const lock = JSON.parse(read("package-lock.json"));
  const ortVersion: string = lock.packages["node_modules/onnxruntime-node"].version;
  const ortDir = join(repo, "node_modules", "onnxruntime-node");
  const ortPackage = JSON.parse(readFileSync(join(ortDir, "package.json"), "utf8"));
  assert.equal(ortPackage.version, ortVersion, "installed onnxruntime-node differs from package-lock.json");
  // "node ./script/install" → node_modules/onnxruntime-node/script/install
  const postinstall = /^node\s+\.\/(\S+)$/.exec(ortPackage.scripts.postinstall)?.[1];
  assert.ok(postinstall, `unexpected onnxruntime-node postinstall "${ortPackage.scripts.postinstall}"`);
  const metadata = createRequire(import.meta.url)(join(ortDir, "script", "install-metadata.js"));
  const cuda = (metadata.requirements["linux/x64"] as string[]).map((n) => /^cuda(\d+)$/.exec(n)).find(Boolean);
  assert.ok(cuda, "onnxruntime-node installs no CUDA provider on linux/x64");
  const cli = JSON.parse(read("libs/cli/package.json"));
  const engines: string = JSON.parse(read("package.json")).engines.node;
  return {
    ortVersion,
    ortCudaMajor: Number(cuda[1]),
    ortInstallScript: `node_modules/onnxruntime-node/${postinstall}`,
    cliEntry: join("libs/cli", cli.bin.exits),
    serviceNames: Object.keys(SERVICE_PROTOS),
    grpcPorts: Object.values(DEFAULT_GRPC_PORTS),
    nodeMajor: Number(/(\d+)/.exec(engines)![1]),
  };
}
const facts = repoFacts();

/** The Dockerfile with one line (or block) replaced; fails the test when `from` is not in it. */
function mutate(from: string | RegExp, to: string) {
  const text = dockerfileText.replace(from, to);
  assert.notEqual(text, dockerfileText, `mutation ${String(from)} matched nothing`);
  return parseDockerfile(text);
}

describe("Dockerfile parser", () => {
  test("joins continuations, drops comment lines inside them, reads exec form and FROM ... AS", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "ARG BASE=node:20-bookworm-slim",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG syntax, not a template
      "FROM ${BASE} AS Build",
      "RUN a \\",
      "  # a comment inside the continuation",
      "  && b",
      'ENTRYPOINT ["node", "x.js"]',
      "FROM --platform=linux/amd64 build AS final",
      'ENV A=1 B="two words"',
      "COPY --from=build --chown=1:1 /a /b ./",
    ].join("\n");
    const file = parseDockerfile(text);
    assert.deepEqual(
      file.stages.map((s) => [s.name, s.base]),
      [
        ["build", "node:20-bookworm-slim"],
        ["final", "build"],
      ],
    );
    const [run, entry] = file.stages[0]!.instructions;
    assert.equal(run!.args, "a && b");
    assert.equal(run!.line, 4);
    assert.deepEqual(entry!.exec, ["node", "x.js"]);
    assert.deepEqual(parsePairs(file.stages[1]!.instructions[0]!.args), { A: "1", B: "two words" });
    assert.deepEqual(parseCopy(file.stages[1]!.instructions[1]!), {
      from: "build",
      sources: ["/a", "/b"],
      destination: "./",
      line: 10,
    });
    assert.deepEqual(
      stageChain(file, file.stages[1]!).map((s) => s.name),
      ["final", "build"],
    );
    assert.deepEqual(parsePairs("LEGACY some value"), { LEGACY: "some value" });
    assert.equal(parseInstructions("RUN x \\\n").length, 1);
  });
});

describe("Dockerfile", () => {
  test("has a cpu and a cuda target", () => {
    assert.deepEqual(checkTargets(dockerfile), []);
    assert.ok(checkTargets(mutate(/ AS cuda$/m, " AS gpu")).some((p) => p.includes('"cuda"')));
  });

  test("final stages run as a numeric non-root user", () => {
    assert.deepEqual(checkUser(dockerfile), []);
    assert.ok(checkUser(mutate(/^USER 10001:10001$/m, "USER root")).some((p) => p.startsWith("cpu:")));
    assert.ok(checkUser(mutate(/^USER 10001:10001$/m, "USER 0")).some((p) => p.includes("root")));
  });

  test("no dev dependency reaches a final stage; node_modules come from `npm ci --omit=dev`", () => {
    assert.deepEqual(checkNoDevDependencies(dockerfile), []);
    const devNodeModules = mutate("COPY --from=build /dist/ ./", "COPY --from=build /app/node_modules ./node_modules");
    assert.ok(checkNoDevDependencies(devNodeModules).some((p) => p.includes('from dev stage "build"')));
    const hostSources = mutate(/(AS cpu[\s\S]*?)COPY proto \.\/proto/, "$1COPY libs ./libs");
    assert.ok(checkNoDevDependencies(hostSources).some((p) => p.includes("build context")));
    const devInstall = mutate("npm ci --omit=dev --ignore-scripts", "npm ci --ignore-scripts");
    assert.ok(checkNoDevDependencies(devInstall).some((p) => p.includes("--omit=dev")));
  });

  test("install scripts: skipped for cpu, onnxruntime-node's CUDA install run for cuda", () => {
    assert.deepEqual(checkInstallScripts(dockerfile, facts), []);
    assert.ok(
      checkInstallScripts(mutate("npm ci --omit=dev --ignore-scripts", "npm ci --omit=dev"), facts).some((p) =>
        p.includes("allowScripts"),
      ),
    );
    const noFlag = mutate(/^ENV ONNXRUNTIME_NODE_INSTALL=cuda12$/m, "");
    assert.ok(checkInstallScripts(noFlag, facts).some((p) => p.startsWith("cuda:")));
    const cpuFromCudaDeps = mutate(/(FROM node:20-bookworm-slim AS cpu[\s\S]*?)--from=prod-deps/, "$1--from=cuda-deps");
    assert.ok(checkInstallScripts(cpuFromCudaDeps, facts).some((p) => p.startsWith("cpu:")));
  });

  test(`cuda base matches onnxruntime-node ${facts.ortVersion} (CUDA ${facts.ortCudaMajor}, cuDNN 9); Node ${facts.nodeMajor} everywhere`, () => {
    assert.deepEqual(checkBaseImages(dockerfile, facts), []);
    const cuda11 = mutate(/nvidia\/cuda:\S+ AS cuda/, "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS cuda");
    assert.ok(checkBaseImages(cuda11, facts).some((p) => p.includes("CUDA 11 base")));
    const cudnn8 = mutate(/nvidia\/cuda:\S+ AS cuda/, "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04 AS cuda");
    assert.ok(checkBaseImages(cudnn8, facts).some((p) => p.includes("cuDNN 8")));
    const devel = mutate(/nvidia\/cuda:\S+ AS cuda/, "nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04 AS cuda");
    assert.ok(checkBaseImages(devel, facts).some((p) => p.includes("runtime")));
  });

  test("runtime: the exits CLI, serve <service>, /data volume, HOME on a writable mount, ports, gRPC-only health", () => {
    assert.deepEqual(checkRuntime(dockerfile, facts), []);
    assert.ok(checkRuntime(mutate('"serve", "mask"]', '"serve", "nope"]'), facts).some((p) => p.includes("CMD")));
    assert.ok(
      checkRuntime(mutate(/(AS cpu[\s\S]*?)ENTRYPOINT \[[^\]]*\]/, "$1ENTRYPOINT node main.js"), facts).some((p) =>
        p.includes("exec form"),
      ),
    );
    const curl = mutate(/^(USER 10001:10001)$/m, "$1\nHEALTHCHECK CMD curl -f http://localhost:51055/metrics");
    assert.ok(checkRuntime(curl, facts).some((p) => p.includes("HEALTHCHECK")));
    const grpc = mutate(/^(USER 10001:10001)$/m, "$1\nHEALTHCHECK CMD grpc_health_probe -addr=:50055");
    assert.deepEqual(checkRuntime(grpc, facts), []);
    assert.ok(checkRuntime(mutate(/^ {2}HOME=\/tmp \\$/m, ""), facts).some((p) => p.includes("HOME")));
    assert.ok(checkRuntime(mutate(/ 51056$/m, ""), facts).some((p) => p.includes("51056")));
  });

  test(".dockerignore keeps host node_modules and dist out of the context", () => {
    assert.deepEqual(checkDockerignore(read(".dockerignore")), []);
    assert.equal(checkDockerignore("**/dist\n").length, 1);
  });
});
