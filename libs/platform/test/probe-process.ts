import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

const repoRoot = new URL("../../../", import.meta.url).pathname;
const probeArgs = [
  "--conditions=source",
  "--import",
  "./tools/register.mjs",
  "libs/platform/test/fixtures/probe-main.ts",
];

/** The probe service as a real child process, on loopback with free ports unless `env` says otherwise. */
export function spawnProbe(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, probeArgs, {
    cwd: repoRoot,
    env: { ...process.env, EXITS_GRPC_HOST: "127.0.0.1", EXITS_GRPC_PORT: "0", EXITS_METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the probe service to its exit: exit code, stdout and stderr. */
export async function runProbeToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnProbe(env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the probe service and waits for its "ready" line; `stdout` keeps everything it printed. */
export async function startProbeProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; grpcPort: number; output: { stdout: string } }> {
  const child = spawnProbe(env);
  child.stderr!.pipe(process.stderr);
  const output = { stdout: "" };
  const grpcPort = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`probe exited early with ${code}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      output.stdout += chunk.toString();
      for (const line of output.stdout.split("\n")) {
        if (line.includes('"ready":true')) resolve(JSON.parse(line).grpcPort);
      }
    });
  });
  return { child, grpcPort, output };
}
