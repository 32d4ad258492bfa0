import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runProbeToExit } from "./probe-process.js";

/** Exit 2 and exactly one stderr line naming `variable` and matching `reason`, with no stack trace. */
function assertConfigExit(result: { code: number | null; stderr: string }, variable: string, reason: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, new RegExp(`^exits probe: invalid configuration ${variable}: `));
  assert.match(lines[0]!, reason);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

describe("a service that cannot start says which variable to change, one line, exit 2", () => {
  let busy: Server;
  let busyPort: number;
  const scratch = mkdtempSync(join(tmpdir(), "exits-startup-"));
  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  after(() => {
    busy.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("a gRPC port already in use", async () => {
    const result = await runProbeToExit({ EXITS_GRPC_PORT: String(busyPort) });
    assertConfigExit(result, "EXITS_GRPC_PORT", new RegExp(`gRPC port 127\\.0\\.0\\.1:${busyPort} is already in use`));
  });

  test("a metrics port already in use, before NestJS reports success", async () => {
    const result = await runProbeToExit({ EXITS_METRICS_PORT: String(busyPort) });
    assertConfigExit(
      result,
      "EXITS_METRICS_PORT",
      new RegExp(`metrics port 127\\.0\\.0\\.1:${busyPort} is already in use`),
    );
    assert.doesNotMatch(result.stdout, /successfully started|service started/);
  });

  test("a host that does not resolve, or is no address of this machine", async () => {
    const unresolvable = await runProbeToExit({ EXITS_GRPC_HOST: "no-such-host.invalid" });
    assertConfigExit(unresolvable, "EXITS_GRPC_HOST", /no-such-host\.invalid:0 \((ENOTFOUND|EAI_AGAIN)\)/);
    const foreign = await runProbeToExit({ EXITS_GRPC_HOST: "192.0.2.1" });
    assertConfigExit(foreign, "EXITS_GRPC_HOST", /192\.0\.2\.1:0 \(EADDRNOTAVAIL\)/);
  });

  test('EXITS_GRPC_PORT="" is an error, not the default port', async () => {
    const result = await runProbeToExit({ EXITS_GRPC_PORT: "" });
    assertConfigExit(result, "EXITS_GRPC_PORT", /set but empty/);
  });

  test("an EXITS_DATA_DIR that is a file, or cannot be created", async () => {
    const file = join(scratch, "a-file");
    writeFileSync(file, "");
    assertConfigExit(await runProbeToExit({ EXITS_DATA_DIR: file }), "EXITS_DATA_DIR", /a-file is not a directory/);
    assertConfigExit(
      await runProbeToExit({ EXITS_DATA_DIR: join(file, "sub") }),
      "EXITS_DATA_DIR",
      /cannot create .*a-file\/sub: ENOTDIR/,
    );
  });
});
