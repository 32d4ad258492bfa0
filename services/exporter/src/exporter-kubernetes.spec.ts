// sharding.kubernetes_indexed_job end to end, without a cluster: the exporter talks to a loopback
// server answering the batch/v1 Job endpoints as the Kubernetes API does (@exits/cluster's
// FakeKubeApi, through a KUBECONFIG file), and a fake kubelet runs each index of the Job it
// creates as a real `exits export-shard` process and writes the Job status as the controller
// would. Checked: the Job's shape, a failed pod retried, the merge equal to one in-process
// export, an exporter restart adopting the running Job, a cancel deleting it.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { indexedJobName } from "@exits/cluster";
import { FakeKubeApi } from "@exits/cluster/testing";
import { type ExportJob, type ExportJobEvent, JobState } from "@exits/contracts";
import { loadServiceConfig, loopbackServiceEnv, type RunningService, startGrpcService } from "@exits/platform";
import { ContractClient } from "@exits/serving";
import { EXPORTER_SERVICE_SPEC } from "./exporter.service-spec.js";
import {
  EXITS_FROM_SOURCE,
  type ExportFixture,
  readAll,
  referenceExport,
  writeExportFixture,
} from "./exporter-fixture.testing.js";
import { exporterShardRunners } from "./exporter-shards.js";
import { containerEnv, FakeKubelet } from "./fake-kubelet.testing.js";

let fixture: ExportFixture;
let reference: Awaited<ReturnType<typeof referenceExport>>;
let api: FakeKubeApi;
let env: Record<string, string>;
const services: RunningService[] = [];
const clients: ContractClient[] = [];
const kubelets: FakeKubelet[] = [];

async function serve(): Promise<{ service: RunningService; client: ContractClient }> {
  const service = await startGrpcService(EXPORTER_SERVICE_SPEC, env);
  const client = new ContractClient("exporter", `127.0.0.1:${service.grpcPort}`);
  services.push(service);
  clients.push(client);
  return { service, client };
}

function kubelet(o: Omit<ConstructorParameters<typeof FakeKubelet>[0], "api" | "entrypoint"> = {}) {
  const k = new FakeKubelet({ api, entrypoint: EXITS_FROM_SOURCE, ...o });
  kubelets.push(k);
  return k;
}

async function finished(client: ContractClient, jobId: string) {
  const events: ExportJobEvent[] = [];
  for await (const e of client.stream<unknown, ExportJobEvent>("watchJob", { jobId })) events.push(e);
  return { job: await client.unary<unknown, ExportJob>("getJob", { jobId }), events };
}

const startJob = (client: ContractClient, outputPath: string, retriesPerShard = 1) =>
  client.unary<unknown, ExportJob>("startJob", {
    spec: {
      inputAnnotations: fixture.clean,
      imagesDir: fixture.imagesDir,
      outputPath,
      sharding: { shardCount: 2, parallelism: 2, retriesPerShard, kubernetesIndexedJob: true },
    },
  });

before(async () => {
  fixture = await writeExportFixture(await mkdtemp(join(tmpdir(), "exits-exporter-k8s-")), 8);
  reference = await referenceExport(fixture, join(fixture.dataDir, "reference.json"));
  api = new FakeKubeApi();
  await api.start();
  const kubeconfig = join(fixture.dataDir, "kubeconfig.json");
  await writeFile(kubeconfig, api.kubeConfig().exportConfig());
  env = loopbackServiceEnv(fixture.dataDir, {
    EXITS_EXPORT_CHUNK_IMAGES: "2",
    KUBECONFIG: kubeconfig,
    EXITS_K8S_NAMESPACE: "exits",
    EXITS_K8S_SHARD_IMAGE: "registry.example/exits:0.1.0-cpu",
    EXITS_K8S_DATA_PVC: "exits-data",
    EXITS_K8S_SERVICE_ACCOUNT: "exits",
    EXITS_K8S_RELEASE: "prod",
  });
});

after(async () => {
  for (const k of kubelets) k.stop();
  for (const c of clients) c.close();
  for (const s of services) await s.shutdown("test over").catch(() => {});
  await api?.stop();
});

describe("exporter on Kubernetes Indexed Jobs", () => {
  test("what is missing for a cluster is named", () => {
    const missing = (over: Record<string, string | undefined>) => {
      const k = exporterShardRunners(loadServiceConfig("exporter", 0, { ...env, ...over })).kubernetes;
      return k && "missing" in k ? k.missing : "";
    };
    assert.match(missing({ EXITS_K8S_NAMESPACE: undefined }), /EXITS_K8S_NAMESPACE/);
    assert.match(missing({ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined }), /no kubeconfig/);
    assert.match(missing({ KUBECONFIG: join(fixture.dataDir, "none.yaml") }), /does not load/);
    assert.match(missing({ EXITS_K8S_SHARD_IMAGE: "" }), /EXITS_K8S_SHARD_IMAGE/);
    assert.match(missing({ EXITS_K8S_DATA_PVC: "" }), /EXITS_K8S_DATA_PVC/);
    assert.equal(missing({}), "");
  });

  test("the exporter creates the Indexed Job, a crashed pod is retried, the merge equals one in-process export", async () => {
    const { client } = await serve();
    const started = await startJob(client, "out/k8s.json");
    const name = indexedJobName(started.jobId);
    const k = kubelet({ crashes: new Map([[1, 1]]) });
    const running = k.run(name);
    const { job, events } = await finished(client, started.jobId);
    await running;
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
    assert.equal(job.kubernetesJob, name);
    assert.equal(job.resolvedSpec!.sharding!.kubernetesIndexedJob, true);

    const created = api.requests.find((r) => r.method === "POST")!.body as import("@kubernetes/client-node").V1Job;
    assert.equal(created.metadata!.name, name);
    const s = created.spec!;
    assert.equal(s.completionMode, "Indexed");
    assert.equal(s.completions, 2);
    assert.equal(s.parallelism, 2);
    assert.equal(s.backoffLimitPerIndex, 1);
    assert.ok(s.podFailurePolicy!.rules.some((r) => r.action === "FailIndex" && r.onExitCodes!.values.includes(2)));
    const pod = s.template.spec!;
    const container = pod.containers[0]!;
    assert.equal(container.image, "registry.example/exits:0.1.0-cpu");
    assert.deepEqual(container.args, ["export-shard", "--job", started.jobId, "--index", "$(JOB_COMPLETION_INDEX)"]);
    const shardEnv = containerEnv(created);
    assert.equal(shardEnv["EXITS_DATA_DIR"], fixture.dataDir);
    assert.equal(shardEnv["EXITS_EXECUTION_PROVIDER"], "cpu");
    assert.equal(shardEnv["EXITS_INTRA_OP_THREADS"], "1");
    assert.equal(shardEnv["EXITS_EXPORT_CHUNK_IMAGES"], "2");
    assert.deepEqual(pod.volumes!.find((v) => v.name === "data")!.persistentVolumeClaim, { claimName: "exits-data" });
    assert.ok(container.volumeMounts!.some((m) => m.name === "data" && m.mountPath === fixture.dataDir));
    assert.equal(pod.serviceAccountName, "exits");
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.equal(pod.securityContext!.seccompProfile!.type, "RuntimeDefault");
    assert.equal(container.securityContext!.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext!.capabilities!.drop, ["ALL"]);
    const labels = s.template.metadata!.labels!;
    assert.equal(labels["app.kubernetes.io/name"], "exits");
    assert.equal(labels["app.kubernetes.io/instance"], "prod", "the release label the NetworkPolicies select on");

    assert.deepEqual(k.pods.map((p) => [p.index, p.attempt, p.exitCode]).sort(), [
      [0, 1, 0],
      [1, 1, 137],
      [1, 2, 0],
    ]);
    assert.equal(api.job(name)!.status!.failed, 1);
    assert.ok(
      events.some((e) => /retries them/.test(e.log?.message ?? "")),
      "the retried pod is logged",
    );
    assert.ok(job.shards.every((x) => x.status!.state === JobState.JOB_STATE_SUCCEEDED));
    assert.deepEqual(
      await readAll(join(fixture.dataDir, "out/k8s.json")),
      reference,
      "same annotations, RLE for RLE, as exportDataset in one process",
    );
  });

  test("a restarted exporter adopts its running Job; a cancel deletes the Job (Background)", async () => {
    const first = await serve();
    const started = await startJob(first.client, "out/adopted.json");
    const name = indexedJobName(started.jobId);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const k = kubelet({ beforePod: (index) => (index === 1 ? held : Promise.resolve()) });
    const running = k.run(name);
    const until = Date.now() + 30_000;
    while (!k.pods.some((p) => p.index === 0 && p.exitCode === 0)) {
      assert.ok(Date.now() < until, "shard 0 finished");
      await new Promise((r) => setTimeout(r, 20));
    }
    const uid = api.job(name)!.metadata!.uid;
    await first.service.shutdown("restart");
    assert.ok(api.job(name), "the Job survives the exporter's shutdown");
    assert.ok(!api.requests.some((r) => r.method === "DELETE"), "nothing deleted");

    const second = await serve();
    release();
    const { job } = await finished(second.client, started.jobId);
    await running;
    assert.equal(job.status!.state, JobState.JOB_STATE_SUCCEEDED, job.status!.message);
    assert.equal(job.status!.attempt, 2, "resumed once, by the restart");
    assert.equal(api.job(name)!.metadata!.uid, uid, "the same Job, adopted (409 then GET)");
    assert.equal(
      api.requests.filter(
        (r) => r.method === "POST" && r.body && (r.body as { metadata: { name: string } }).metadata.name === name,
      ).length,
      2,
    );
    assert.deepEqual(
      k.pods.map((p) => [p.index, p.exitCode]).sort(),
      [
        [0, 0],
        [1, 0],
      ],
      "each shard ran once",
    );
    assert.deepEqual(await readAll(join(fixture.dataDir, "out/adopted.json")), reference);

    // Cancel: the pods are never let start; the Job goes with propagation Background.
    const cancelled = await startJob(second.client, "out/cancelled.json");
    const cancelledName = indexedJobName(cancelled.jobId);
    const stuck = kubelet({ beforePod: () => new Promise(() => {}) });
    const stuckRun = stuck.run(cancelledName);
    while (!api.job(cancelledName)) await new Promise((r) => setTimeout(r, 10));
    await second.client.unary("cancelJob", { jobId: cancelled.jobId, reason: "test" });
    const stopped = await finished(second.client, cancelled.jobId);
    assert.equal(stopped.job.status!.state, JobState.JOB_STATE_CANCELLED);
    assert.equal(api.job(cancelledName), undefined, "the Job is deleted");
    const deletion = api.requests.find((r) => r.method === "DELETE" && r.path.endsWith(`/jobs/${cancelledName}`))!;
    assert.equal(
      deletion.query["propagationPolicy"] ?? (deletion.body as { propagationPolicy?: string }).propagationPolicy,
      "Background",
    );
    await stuckRun;
  });
  test("an index that fails every retry fails the job; a resume replaces the failed Job and keeps the done shard", async () => {
    const { client } = await serve();
    const started = await startJob(client, "out/replaced.json", 1);
    const name = indexedJobName(started.jobId);
    const broken = kubelet({ crashes: new Map([[1, 2]]) });
    const running = broken.run(name);
    const { job } = await finished(client, started.jobId);
    await running;
    assert.equal(job.status!.state, JobState.JOB_STATE_FAILED);
    assert.match(job.status!.error!.message, /shard 1 failed: its pod failed 2 times/);
    assert.deepEqual(
      job.shards.map((x) => x.status!.state),
      [JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_FAILED],
    );
    const failedUid = api.job(name)!.metadata!.uid;
    assert.equal(api.job(name)!.status!.failedIndexes, "1");

    await client.unary("resumeJob", { jobId: started.jobId });
    // The new Job's pods only: wait for the exporter to delete the failed Job and create another.
    while (api.job(name)?.metadata?.uid === failedUid || !api.job(name)) await new Promise((r) => setTimeout(r, 10));
    const fresh = kubelet();
    const rerun = fresh.run(name);
    const { job: resumed } = await finished(client, started.jobId);
    await rerun;
    assert.equal(resumed.status!.state, JobState.JOB_STATE_SUCCEEDED, resumed.status!.message);
    assert.ok(
      api.requests.some((r) => r.method === "DELETE" && r.path.endsWith(`/jobs/${name}`)),
      "the failed Job was deleted",
    );
    assert.deepEqual(
      fresh.pods.map((p) => [p.index, p.exitCode]).sort(),
      [
        [0, 0],
        [1, 0],
      ],
      "every index gets a pod; shard 0's returns at once (already done)",
    );
    assert.deepEqual(await readAll(join(fixture.dataDir, "out/replaced.json")), reference);
  });
});
