import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { ServingStatus } from "../src/health/health-service.js";
import { watchHealth } from "../src/probe/health-probe.js";
import { ProbeClient } from "./probe-client.js";

const repoRoot = new URL("../../../", import.meta.url).pathname;

/** Starts the probe service as a real child process and waits for its "ready" line. */
async function startProbeProcess(env: Record<string, string>): Promise<{ child: ChildProcess; grpcPort: number }> {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "./tools/register.mjs", "libs/platform/test/fixtures/probe-main.ts"],
    {
      cwd: repoRoot,
      env: { ...process.env, EXITS_GRPC_HOST: "127.0.0.1", EXITS_GRPC_PORT: "0", EXITS_METRICS_PORT: "0", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let buffered = "";
  const grpcPort = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`probe exited early with ${code}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        if (line.includes('"ready":true')) resolve(JSON.parse(line).grpcPort);
      }
    });
  });
  return { child, grpcPort };
}

describe("SIGTERM", () => {
  test("health goes NOT_SERVING, the call in flight completes, then the process exits 0", async () => {
    const { child, grpcPort } = await startProbeProcess({ EXITS_SHUTDOWN_GRACE_MS: "10000", EXITS_LOG_LEVEL: "warn" });
    const address = `127.0.0.1:${grpcPort}`;
    const seen: ServingStatus[] = [];
    const stopWatching = watchHealth(address, "exits.testing.ProbeService", (s) => seen.push(s));
    const client = new ProbeClient(address);
    try {
      await client.call("echo", { text: "warm" });
      const events: string[] = [];
      const inFlight = client.call<{ sleptMillis: number }>("sleep", { millis: 1200 }).then((reply) => {
        events.push("call done");
        return reply;
      });
      const exited = once(child, "exit").then(([code]) => {
        events.push("exit");
        return code;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill("SIGTERM");
      const reply = await inFlight;
      assert.equal(reply.sleptMillis, 1200);
      assert.equal(await exited, 0);
      assert.deepEqual(events, ["call done", "exit"]);
      assert.deepEqual(seen.slice(0, 1), ["SERVING"]);
      assert.ok(seen.includes("NOT_SERVING"), `health statuses seen: ${seen.join(",")}`);
    } finally {
      stopWatching();
      client.close();
      child.kill("SIGKILL");
    }
  });

  test("a call longer than the grace period is cancelled and the process still exits 0", async () => {
    const { child, grpcPort } = await startProbeProcess({ EXITS_SHUTDOWN_GRACE_MS: "300", EXITS_LOG_LEVEL: "error" });
    const client = new ProbeClient(`127.0.0.1:${grpcPort}`);
    try {
      const inFlight = client.call("sleep", { millis: 20_000 }).then(
        () => assert.fail("the call should not complete"),
        (error: { code: number }) => error.code,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 5000, "exit follows the grace period, not the call");
      assert.ok([status.CANCELLED, status.UNAVAILABLE].includes(await inFlight));
    } finally {
      client.close();
      child.kill("SIGKILL");
    }
  });
});
