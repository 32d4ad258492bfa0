import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { ServingStatus } from "../src/health/health-service.js";
import { checkHealth, watchHealth } from "../src/probe/health-probe.js";
import { ProbeClient } from "./probe-client.js";
import { startProbeProcess } from "./probe-process.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A client on its own TCP connection: grpc-js otherwise shares one per address. */
const freshClient = (address: string) => new ProbeClient(address, { "grpc.use_local_subchannel_pool": 1 });

function tcpConnect(port: number): Promise<"connected" | string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe("SIGTERM", () => {
  test("drain: health NOT_SERVING while new connections and calls are still served; then refused; in-flight finishes; exit 0", async () => {
    const drainMs = 1500;
    const { child, grpcPort } = await startProbeProcess({
      EXITS_SHUTDOWN_DRAIN_MS: String(drainMs),
      EXITS_SHUTDOWN_GRACE_MS: "10000",
      EXITS_LOG_LEVEL: "warn",
    });
    const address = `127.0.0.1:${grpcPort}`;
    const seen: ServingStatus[] = [];
    const stopWatching = watchHealth(address, "exits.testing.ProbeService", (s) => seen.push(s));
    const client = new ProbeClient(address);
    try {
      await client.call("echo", { text: "warm" });
      const events: string[] = [];
      const inFlight = client.call<{ sleptMillis: number }>("sleep", { millis: drainMs + 1000 }).then((reply) => {
        events.push("call done");
        return reply;
      });
      const exited = once(child, "exit").then(([code]) => {
        events.push("exit");
        return code;
      });
      await sleep(200);
      const signalled = Date.now();
      child.kill("SIGTERM");
      await sleep(300);

      // Inside the drain: a load balancer probing health sees NOT_SERVING, traffic still flows.
      assert.equal(await checkHealth(address, "exits.testing.ProbeService"), "NOT_SERVING");
      assert.equal(await tcpConnect(grpcPort), "connected");
      const during = freshClient(address);
      assert.equal((await during.call<{ text: string }>("echo", { text: "during drain" })).text, "during drain");
      during.close();

      // After the drain: new connections are refused, new calls fail, the old call carries on.
      await sleep(Math.max(0, signalled + drainMs + 300 - Date.now()));
      assert.equal(await tcpConnect(grpcPort), "ECONNREFUSED");
      const late = freshClient(address);
      const refused = await late.call("echo", { text: "too late" }, 2000).then(
        () => "served",
        (error: { code: number }) => status[error.code],
      );
      late.close();
      assert.equal(refused, "UNAVAILABLE");
      assert.equal(events.length, 0, "neither the call nor the process has ended yet");

      assert.equal((await inFlight).sleptMillis, drainMs + 1000);
      assert.equal(await exited, 0);
      assert.deepEqual(events, ["call done", "exit"]);
      assert.ok(Date.now() - signalled >= drainMs, "the process waited out the drain");
      assert.deepEqual(seen.slice(0, 2), ["SERVING", "NOT_SERVING"]);
    } finally {
      stopWatching();
      client.close();
      child.kill("SIGKILL");
    }
  });

  test("a call longer than the grace period is cancelled and the process still exits 0", async () => {
    const { child, grpcPort } = await startProbeProcess({
      EXITS_SHUTDOWN_DRAIN_MS: "0",
      EXITS_SHUTDOWN_GRACE_MS: "300",
      EXITS_LOG_LEVEL: "error",
    });
    const client = new ProbeClient(`127.0.0.1:${grpcPort}`);
    try {
      const inFlight = client.call("sleep", { millis: 20_000 }).then(
        () => assert.fail("the call should not complete"),
        (error: { code: number }) => error.code,
      );
      await sleep(200);
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
