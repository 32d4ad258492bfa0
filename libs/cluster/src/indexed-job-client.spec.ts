// The Job client against a loopback server that answers the batch/v1 endpoints as the Kubernetes
// API defines them (no API server can run here): create, 409 adoption, get/list, watch with
// resourceVersion and bookmarks, a watch cut mid-line, 410 Gone, delete with propagation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FailedPreconditionError } from "@exits/platform";
import type { V1Job } from "@kubernetes/client-node";
import { formatIndexRanges, parseIndexRanges } from "./index-ranges.js";
import { IndexedJobClient, type JobWatchEvent } from "./indexed-job-client.js";
import { buildIndexedJob, exportJobSelector, type IndexedJobSpec, indexedJobName } from "./indexed-job-spec.js";
import { indexedJobStatus } from "./indexed-job-status.js";
import { KubernetesShardRunner } from "./kubernetes-shard-runner.js";
import type { ShardEvent } from "./shard-runner.js";
import { FakeKubeApi } from "./testing/fake-kube-api.js";

const NS = "exits";
const spec = (id: string, shards = 2): IndexedJobSpec => ({
  exportJobId: id,
  shards,
  parallelism: 2,
  backoffLimitPerIndex: 1,
  image: "registry.example/exits:cuda",
  serviceAccountName: "exits-exporter",
  dataClaimName: "exits-data",
  gpus: 1,
});

/** Collects watch events until `until` says stop (then leaves the loop, closing the watch). */
async function take(
  iterable: AsyncIterable<JobWatchEvent>,
  until: (seen: JobWatchEvent[]) => boolean,
  onEach?: (e: JobWatchEvent, seen: JobWatchEvent[]) => void,
) {
  const seen: JobWatchEvent[] = [];
  for await (const e of iterable) {
    seen.push(e);
    onEach?.(e, seen);
    if (until(seen)) break;
  }
  return seen;
}

const phases = (events: JobWatchEvent[]) =>
  events.map((e) =>
    e.type === "SYNC" || e.type === "BOOKMARK"
      ? e.type
      : `${e.type}:${e.job.status?.completedIndexes ?? ""}/${e.job.status?.active ?? 0}`,
  );

describe("index ranges", () => {
  test("parse and format as the Job controller writes them", () => {
    assert.deepEqual(parseIndexRanges("0-2,5"), [0, 1, 2, 5]);
    assert.deepEqual(parseIndexRanges("0-1"), [0, 1]);
    assert.deepEqual(parseIndexRanges(""), []);
    assert.deepEqual(parseIndexRanges(undefined), []);
    assert.equal(formatIndexRanges([7, 0, 1, 2, 5, 8]), "0-2,5,7,8");
    assert.equal(formatIndexRanges([]), "");
    for (const bad of ["1-", "a", "3-1", "1,,2"]) assert.throws(() => parseIndexRanges(bad), /index range|descending/);
    for (let n = 0; n < 50; n++) {
      const set = [...new Set(Array.from({ length: 8 }, () => Math.floor(Math.random() * 20)))];
      assert.deepEqual(
        parseIndexRanges(formatIndexRanges(set)),
        [...set].sort((a, b) => a - b),
      );
    }
  });
});

describe("Indexed Job object", () => {
  test("completions = shards, per-index backoff, the shard command, data claim, locked-down pod, GPU", () => {
    const job = buildIndexedJob(
      { ...spec("abc", 3), maxFailedIndexes: 1, env: { EXITS_EXECUTION_PROVIDER: "cuda" } },
      NS,
    );
    const s = job.spec!;
    assert.equal(s.completionMode, "Indexed");
    assert.equal(s.completions, 3);
    assert.equal(s.parallelism, 2);
    assert.equal(s.backoffLimitPerIndex, 1);
    assert.equal(s.maxFailedIndexes, 1);
    const pod = s.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(pod.restartPolicy, "Never");
    assert.deepEqual(c.args, ["export-shard", "--job", "abc", "--index", "$(JOB_COMPLETION_INDEX)"]);
    assert.ok(c.env!.some((e) => e.name === "JOB_COMPLETION_INDEX" && e.valueFrom?.fieldRef));
    assert.ok(c.env!.some((e) => e.name === "EXITS_DATA_DIR" && e.value === "/data"));
    assert.deepEqual(pod.volumes!.find((v) => v.name === "data")!.persistentVolumeClaim, { claimName: "exits-data" });
    assert.ok(
      c.volumeMounts!.some((m) => m.mountPath === "/tmp"),
      "read-only root needs a writable /tmp",
    );
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.equal(pod.securityContext!.seccompProfile!.type, "RuntimeDefault");
    assert.equal(c.securityContext!.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext!.capabilities!.drop, ["ALL"]);
    assert.equal(c.resources!.limits!["nvidia.com/gpu"], "1");
    assert.equal(pod.serviceAccountName, "exits-exporter");
    assert.equal(job.metadata!.labels!["exits/export-job"], "abc");
    assert.deepEqual(job.spec!.template.metadata!.labels, job.metadata!.labels);
  });
});

describe("IndexedJobClient against a loopback Kubernetes API", () => {
  const api = new FakeKubeApi();
  let client: IndexedJobClient;
  before(async () => {
    await api.start();
    client = new IndexedJobClient(api.kubeConfig(), NS, { reconnectDelayMs: 10 });
  });
  after(() => api.stop());

  test("create posts an Indexed Job; get and list find it; get of a missing Job is undefined", async () => {
    const { job, adopted } = await client.createOrAdopt(spec("create-1"));
    assert.equal(adopted, false);
    const post = api.requests.find((r) => r.method === "POST")!;
    assert.equal(post.path, `/apis/batch/v1/namespaces/${NS}/jobs`);
    assert.equal((post.body as V1Job).spec!.completionMode, "Indexed");
    assert.ok(job.metadata!.uid);
    assert.equal((await client.get(job.metadata!.name!))!.metadata!.uid, job.metadata!.uid);
    assert.equal(await client.get("exits-export-nope"), undefined);
    const listed = await client.listForExport("create-1");
    assert.deepEqual(
      listed.jobs.map((j) => j.metadata!.name),
      [indexedJobName("create-1")],
    );
    assert.equal(listed.resourceVersion, api.resourceVersion);
    const listCall = api.requests.findLast((r) => r.method === "GET" && r.query["labelSelector"])!;
    assert.equal(listCall.query["labelSelector"], exportJobSelector("create-1"));
    await assert.rejects(client.getForExport("nope"), /not found/);
  });

  test("409 AlreadyExists: adopts the Job when its labels say it is this export's, refuses otherwise", async () => {
    const first = await client.createOrAdopt(spec("adopt-1"));
    const again = await client.createOrAdopt(spec("adopt-1"));
    assert.equal(again.adopted, true);
    assert.equal(again.job.metadata!.uid, first.job.metadata!.uid);
    // Same name, someone else's labels.
    const foreign = buildIndexedJob(spec("adopt-2"), NS);
    foreign.metadata!.labels = { app: "other" };
    api.seed(foreign);
    await assert.rejects(client.createOrAdopt(spec("adopt-2")), (e) => {
      assert.ok(e instanceof FailedPreconditionError);
      assert.match(e.message, /labels do not mark it/);
      return true;
    });
    await assert.rejects(client.createOrAdopt(spec("adopt-1", 5)), /runs 2 shards, this export wants 5/);
  });

  test("watch: a SYNC, progress to completion with a BOOKMARK, completedIndexes parsed per index", async () => {
    const { job } = await client.createOrAdopt(spec("watch-1"));
    const name = job.metadata!.name!;
    const controller = new AbortController();
    const opened = api.watchesOpened;
    const events = await take(
      client.watch({ labelSelector: exportJobSelector("watch-1"), signal: controller.signal }),
      (seen) => seen.some((e) => e.type === "MODIFIED" && e.job.status?.conditions?.length),
      (e) => {
        if (e.type !== "SYNC") return;
        // Once the watch that follows the list is open: progress, a bookmark, completion.
        void api.waitForWatchesOpened(opened + 1).then(() => {
          api.updateStatus(name, (s) => Object.assign(s, { active: 2 }));
          api.bookmark();
          api.updateStatus(name, (s) => Object.assign(s, { active: 1, succeeded: 1, completedIndexes: "1" }));
          api.updateStatus(name, (s) =>
            Object.assign(s, {
              active: 0,
              succeeded: 2,
              completedIndexes: formatIndexRanges([0, 1]),
              conditions: [{ type: "Complete", status: "True" }],
            }),
          );
        });
      },
    );
    controller.abort();
    assert.deepEqual(phases(events), ["SYNC", "MODIFIED:/2", "BOOKMARK", "MODIFIED:1/1", "MODIFIED:0,1/0"]);
    const watchCall = api.watchRequests().at(-1)!;
    assert.equal(watchCall.query["allowWatchBookmarks"], "true");
    assert.equal(watchCall.query["resourceVersion"], (events[0] as { resourceVersion: string }).resourceVersion);
    const last = events.at(-1) as { job: V1Job };
    const status = indexedJobStatus(last.job);
    assert.deepEqual(status.states, ["succeeded", "succeeded"]);
    assert.equal(status.finished, "Complete");
    const bookmark = events[2] as { resourceVersion: string };
    assert.equal(bookmark.resourceVersion, (events[1] as { job: V1Job }).job.metadata!.resourceVersion);
  });

  test("a watch cut mid-line resumes from the last resourceVersion: nothing lost, nothing twice", async () => {
    const { job } = await client.createOrAdopt(spec("cut-1", 4));
    const name = job.metadata!.name!;
    api.updateStatus(name, (s) => Object.assign(s, { completedIndexes: "0" }));
    api.updateStatus(name, (s) => Object.assign(s, { completedIndexes: "0,1" }));
    const watchesBefore = api.watchRequests().length;
    let cutAt = "";
    const events = await take(
      client.watch({ labelSelector: exportJobSelector("cut-1"), resourceVersion: job.metadata!.resourceVersion }),
      (seen) => seen.length === 4,
      (e, seen) => {
        if (seen.length !== 2) return;
        // The server cuts the stream half-way through the third change; the fourth happens while
        // no watch is open.
        cutAt = (e as { job: V1Job }).job.metadata!.resourceVersion!;
        const third = api.updateStatus(name, (s) => Object.assign(s, { completedIndexes: "0-2" }), { deliver: false });
        api.cutWatches({ type: "MODIFIED", object: third });
        api.updateStatus(name, (s) => Object.assign(s, { completedIndexes: "0-3" }));
      },
    );
    assert.deepEqual(
      events.map((e) => (e as { job: V1Job }).job.status?.completedIndexes),
      ["0", "0,1", "0-2", "0-3"],
    );
    const calls = api.watchRequests().slice(watchesBefore);
    assert.equal(calls.length, 2, "one reconnect");
    assert.equal(calls[0]!.query["resourceVersion"], job.metadata!.resourceVersion);
    assert.equal(calls[1]!.query["resourceVersion"], cutAt);
  });

  test("410 Gone on a stale resourceVersion: re-list (SYNC), then watch on from the list", async () => {
    const { job } = await client.createOrAdopt(spec("gone-1"));
    const name = job.metadata!.name!;
    api.updateStatus(name, (s) => Object.assign(s, { active: 2 }));
    api.compact();
    const staleVersion = job.metadata!.resourceVersion!;
    const listsBefore = api.requests.filter((r) => r.method === "GET" && r.query["watch"] === undefined).length;
    const events = await take(
      client.watch({ labelSelector: exportJobSelector("gone-1"), resourceVersion: staleVersion }),
      (seen) => seen.some((e) => e.type === "MODIFIED"),
      (e) => {
        if (e.type === "SYNC") api.updateStatus(name, (s) => Object.assign(s, { completedIndexes: "0" }));
      },
    );
    assert.deepEqual(phases(events), ["SYNC", "MODIFIED:0/2"]);
    const sync = events[0] as Extract<JobWatchEvent, { type: "SYNC" }>;
    assert.equal(sync.jobs[0]!.status!.active, 2, "the list carries the change the watch could not replay");
    const lists = api.requests.filter((r) => r.method === "GET" && r.query["watch"] === undefined).length;
    assert.equal(lists, listsBefore + 1);
    const watches = api.watchRequests().slice(-2);
    assert.deepEqual(
      watches.map((w) => w.query["resourceVersion"]),
      [staleVersion, sync.resourceVersion],
    );
  });

  test("delete sends the propagation policy (query and DeleteOptions); a missing Job is false", async () => {
    const background = await client.createOrAdopt(spec("del-1"));
    assert.equal(await client.delete(background.job.metadata!.name!, "Background"), true);
    const call = api.requests.findLast((r) => r.method === "DELETE")!;
    assert.equal(call.query["propagationPolicy"], "Background");
    assert.deepEqual(call.body, { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" });
    assert.equal(api.job(background.job.metadata!.name!), undefined);
    const foreground = await client.createOrAdopt(spec("del-2"));
    assert.equal(await client.delete(foreground.job.metadata!.name!, "Foreground"), true);
    assert.equal(api.requests.findLast((r) => r.method === "DELETE")!.query["propagationPolicy"], "Foreground");
    assert.ok(api.job(foreground.job.metadata!.name!)?.metadata?.deletionTimestamp, "kept until its pods are gone");
    assert.equal(await client.delete("exits-export-never-was"), false);
  });

  test("only the endpoints the RBAC role grants were called", () => {
    const allowed = /^\/apis\/batch\/v1\/namespaces\/exits\/jobs(\/[a-z0-9.-]+)?$/;
    for (const r of api.requests) assert.match(r.path, allowed, `${r.method} ${r.path}`);
    assert.deepEqual(new Set(api.requests.map((r) => r.method)), new Set(["POST", "GET", "DELETE"]));
  });
});

describe("KubernetesShardRunner", () => {
  const api = new FakeKubeApi();
  let client: IndexedJobClient;
  before(async () => {
    await api.start();
    client = new IndexedJobClient(api.kubeConfig(), NS, { reconnectDelayMs: 10 });
  });
  after(() => api.stop());
  const template = {
    image: "registry.example/exits:cpu",
    dataClaimName: "exits-data",
    serviceAccountName: "exits-exporter",
  };

  async function collect(run: AsyncIterable<ShardEvent>) {
    const events: ShardEvent[] = [];
    for await (const e of run) events.push(e);
    return events;
  }
  const brief = (events: ShardEvent[]) =>
    events.map((e) => (e.type === "succeeded" || e.type === "failed" ? `${e.type}:${e.index}` : e.type));
  type Status = NonNullable<V1Job["status"]>;

  test("a failed pod is retried, an index that uses up its retries is reported failed", async () => {
    const runner = new KubernetesShardRunner(client, template);
    const name = indexedJobName("run-1");
    const opened = api.watchesOpened;
    const running = collect(runner.run({ exportJobId: "run-1", shards: 3, parallelism: 3, retriesPerShard: 1 }));
    await api.waitForWatchesOpened(opened + 1);
    // Kubernetes' progress for 3 shards, 1 retry each: index 2's pod fails, and its retry too.
    const steps: ((s: Status) => void)[] = [
      (s) => Object.assign(s, { active: 3 }),
      (s) => Object.assign(s, { active: 3, failed: 1 }),
      (s) => Object.assign(s, { active: 2, failed: 1, succeeded: 1, completedIndexes: "0" }),
      (s) =>
        Object.assign(s, {
          active: 0,
          failed: 2,
          succeeded: 2,
          completedIndexes: "0,1",
          failedIndexes: "2",
          conditions: [{ type: "Failed", status: "True", reason: "FailedIndexes" }],
        }),
    ];
    for (const step of steps) api.updateStatus(name, step);
    const events = await running;
    assert.deepEqual(brief(events), ["retrying", "succeeded:0", "succeeded:1", "failed:2", "finished"]);
    const finished = events.at(-1) as Extract<ShardEvent, { type: "finished" }>;
    assert.deepEqual([finished.succeeded, finished.failed, finished.reason], [[0, 1], [2], "FailedIndexes"]);
    const created = api.requests.find((r) => r.method === "POST")!.body as V1Job;
    assert.equal(created.spec!.backoffLimitPerIndex, 1);
    assert.equal(created.spec!.completions, 3);
  });

  test("after an exporter restart the run adopts its Job and reports what already finished", async () => {
    const first = await client.createOrAdopt({ ...template, ...spec("run-2", 2) });
    api.updateStatus(first.job.metadata!.name!, (s) => Object.assign(s, { active: 1, completedIndexes: "1" }));
    const runner = new KubernetesShardRunner(client, template);
    const opened = api.watchesOpened;
    const running = collect(runner.run({ exportJobId: "run-2", shards: 2, parallelism: 2, retriesPerShard: 1 }));
    await api.waitForWatchesOpened(opened + 1);
    api.updateStatus(first.job.metadata!.name!, (s) =>
      Object.assign(s, { active: 0, completedIndexes: "0,1", conditions: [{ type: "Complete", status: "True" }] }),
    );
    const events = await running;
    assert.deepEqual(brief(events), ["succeeded:1", "succeeded:0", "finished"]);
    assert.equal(
      api.requests.filter((r) => r.method === "POST" && r.path.endsWith("/jobs")).length,
      3,
      "409 on the second create",
    );
  });

  test("cancelling deletes the Job with the configured propagation and reports the unfinished shards", async () => {
    const runner = new KubernetesShardRunner(client, template, { cancelPropagation: "Foreground" });
    const controller = new AbortController();
    const opened = api.watchesOpened;
    const running = collect(
      runner.run({ exportJobId: "run-3", shards: 2, parallelism: 1, retriesPerShard: 0, signal: controller.signal }),
    );
    await api.waitForWatchesOpened(opened + 1);
    api.updateStatus(indexedJobName("run-3"), (s) => Object.assign(s, { active: 1, completedIndexes: "0" }));
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const events = await running;
    assert.deepEqual(brief(events), ["succeeded:0", "finished"]);
    const finished = events.at(-1) as Extract<ShardEvent, { type: "finished" }>;
    assert.deepEqual([finished.cancelled, finished.failed], [true, [1]]);
    const del = api.requests.findLast((r) => r.method === "DELETE")!;
    assert.equal(del.path, `/apis/batch/v1/namespaces/${NS}/jobs/${indexedJobName("run-3")}`);
    assert.equal(del.query["propagationPolicy"], "Foreground");
  });
});
