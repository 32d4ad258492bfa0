import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { COUNT_TO, countingRun } from "./fixtures/counting-job.js";
import { RESTART_REASON } from "./job-manager.js";
import { openManager, waitForState } from "./job-test-kit.js";

const scratch = mkdtempSync(join(tmpdir(), "exits-jobs-restart-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const repoRoot = process.env.EXITS_REPO_ROOT ?? process.cwd();

/** Runs the fixture in a child process until it reports `step`, then kills it with SIGKILL. */
function runAndKill(dir: string, killAtStep: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "./tools/register.mjs",
        "libs/serving/src/jobs/fixtures/counting-job.ts",
        dir,
        "40",
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    let id = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the child never reached step ${killAtStep}: ${out} ${err}`));
    }, 60_000);
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdout.on("data", (d) => {
      out += d;
      id = /STARTED (\S+)/.exec(out)?.[1] ?? id;
      if (id && out.includes(`STEP ${killAtStep}\n`)) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" && id) resolve(id);
      else reject(new Error(`child exited ${code ?? signal}: ${out} ${err}`));
    });
  });
}

test("a job whose service is killed with SIGKILL is INTERRUPTED on restart and resumes from its checkpoint", async () => {
  const dir = join(scratch, "jobs");
  const id = await runAndKill(dir, 3);
  const before = JSON.parse(readFileSync(join(dir, id, "job.json"), "utf8"));
  assert.equal(before.status.state, "RUNNING", "the killed process left its job RUNNING on disk");
  const checkpoint = JSON.parse(readFileSync(join(dir, id, "checkpoint.json"), "utf8")).step;
  assert.ok(checkpoint >= 3 && checkpoint < COUNT_TO, `checkpoint at step ${checkpoint}`);

  const { manager } = await openManager(dir, countingRun(2));
  const listed = manager.list().jobs;
  assert.deepEqual(
    listed.map((j) => j.id),
    [id],
  );
  const done = await waitForState(manager, id, "SUCCEEDED", 30_000);
  assert.equal(done.status.attempt, 2);
  assert.equal(done.status.done, COUNT_TO);
  assert.equal(done.extras.artifact, "counted");
  assert.equal(done.extras.note, `attempt 2 from step ${checkpoint}`, "resumed from the checkpoint, not from 0");

  const events = [];
  for await (const event of manager.watch(id)) events.push(event);
  assert.deepEqual(
    events.map((e) => e.sequence),
    events.map((_, i) => i + 1),
    "sequence numbers continue across the restart",
  );
  const changes = events.flatMap((e) =>
    e.type === "state_changed" ? [`${e.stateChanged.previous}>${e.stateChanged.current}`] : [],
  );
  assert.deepEqual(changes, [
    "UNSPECIFIED>QUEUED",
    "QUEUED>RUNNING",
    "RUNNING>INTERRUPTED",
    "INTERRUPTED>QUEUED",
    "QUEUED>RUNNING",
    "RUNNING>SUCCEEDED",
  ]);
  const interrupted = events.find((e) => e.type === "state_changed" && e.stateChanged.current === "INTERRUPTED");
  assert.equal(interrupted?.type === "state_changed" && interrupted.stateChanged.reason, RESTART_REASON);
  const ticks = events.flatMap((e) => (e.type === "custom" ? [e.custom.tick] : []));
  assert.equal(ticks.at(-1), COUNT_TO);
  assert.ok(ticks.includes(checkpoint + 1));

  // The same request_id after the restart answers the recovered job.
  const again = await manager.start(
    { name: "count" },
    {
      requestId: "count-1",
      prepare: () => {
        throw new Error("not called");
      },
    },
  );
  assert.equal(again.id, id);
  await manager.close();
});
