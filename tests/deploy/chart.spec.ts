import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { SERVICE_PROTOS, type ServiceShortName } from "@exits/contracts";
import { DEFAULT_GRPC_PORTS } from "../../libs/platform/src/bootstrap/contract-service-spec.js";
import {
  chartDir,
  container,
  envValue,
  helmRender,
  type K8sObject,
  named,
  ofKind,
  type Rendered,
  renderChart,
  renderFailure,
  runRenderer,
  selects,
} from "./deploy-tools.js";
import { validateObject } from "./validate-object.js";

const { skip } = helmRender();
const SERVICES = Object.keys(DEFAULT_GRPC_PORTS) as ServiceShortName[];
const GPU_SERVICES: ServiceShortName[] = ["similarity", "trainer", "mask", "exporter"];
const GPU_VALUES = join(chartDir, "ci/gpu-values.yaml");
const prefix = "release-name-exits";
const objects = (rendered: readonly Rendered[]) => rendered.map((r) => r.object);

function deployments(all: readonly K8sObject[]): Map<ServiceShortName, K8sObject> {
  return new Map(SERVICES.map((s) => [s, named(all, "Deployment", `${prefix}-${s}`)]));
}

function configData(all: readonly K8sObject[]): Record<string, string> {
  return named(all, "ConfigMap", prefix).data;
}

describe("charts/exits rendered by helm-render", { skip }, () => {
  const defaults = skip ? [] : objects(renderChart());
  const gpu = skip ? [] : objects(renderChart("-f", GPU_VALUES));

  test("every object of the default and the GPU render passes its Kubernetes schema", () => {
    for (const o of [...defaults, ...gpu]) validateObject(o);
    const counts = (all: readonly K8sObject[]) =>
      Object.fromEntries([...new Set(all.map((o) => o.kind))].sort().map((k) => [k, ofKind(all, k).length]));
    assert.deepEqual(counts(defaults), {
      ConfigMap: 1,
      Deployment: 6,
      NetworkPolicy: 6,
      PersistentVolumeClaim: 1,
      PodDisruptionBudget: 6,
      Role: 1,
      RoleBinding: 1,
      Service: 6,
      ServiceAccount: 2,
    });
    assert.deepEqual(counts(gpu), { ...counts(defaults), HorizontalPodAutoscaler: 1, ServiceMonitor: 1 });
  });

  test("the schema check bites: a wrong container port type is rejected", () => {
    const broken = structuredClone(named(defaults, "Deployment", `${prefix}-mask`));
    container(broken).ports[0].containerPort = "grpc";
    assert.throws(() => validateObject(broken), /containerPort must be integer/);
  });

  test("each service: Service with named grpc and metrics ports that select its pods", () => {
    for (const [name, dep] of deployments(defaults)) {
      const grpcPort = DEFAULT_GRPC_PORTS[name];
      const svc = named(defaults, "Service", `${prefix}-${name}`);
      const ports = Object.fromEntries(svc.spec.ports.map((p: K8sObject) => [p.name, p]));
      assert.equal(ports.grpc.port, grpcPort);
      assert.equal(ports.grpc.appProtocol, "grpc");
      assert.equal(ports.metrics.port, grpcPort + 1000);
      const containerPorts = Object.fromEntries(container(dep).ports.map((p: K8sObject) => [p.name, p.containerPort]));
      assert.deepEqual(containerPorts, { grpc: grpcPort, metrics: grpcPort + 1000 });
      assert.equal(ports.grpc.targetPort, "grpc");
      assert.equal(ports.metrics.targetPort, "metrics");
      assert.ok(selects({ matchLabels: svc.spec.selector }, dep.spec.template.metadata.labels));
      assert.equal(envValue(container(dep), "EXITS_GRPC_PORT"), String(grpcPort));
      assert.equal(envValue(container(dep), "EXITS_METRICS_PORT"), String(grpcPort + 1000));
      assert.deepEqual(container(dep).args, ["serve", name]);
    }
  });

  test("probes are native gRPC health checks of each service's own name; startup allows model loading", () => {
    for (const [name, dep] of deployments(defaults)) {
      const c = container(dep);
      for (const probe of [c.startupProbe, c.readinessProbe]) {
        assert.deepEqual(probe.grpc, { port: DEFAULT_GRPC_PORTS[name], service: SERVICE_PROTOS[name].fullName });
        assert.equal(probe.httpGet ?? probe.exec ?? probe.tcpSocket, undefined);
      }
      assert.deepEqual(c.livenessProbe.grpc, { port: DEFAULT_GRPC_PORTS[name] }); // the server as a whole
      const startupSeconds = c.startupProbe.periodSeconds * c.startupProbe.failureThreshold;
      assert.ok(startupSeconds >= (name === "mask" ? 600 : 300), `${name} startup budget ${startupSeconds} s`);
    }
  });

  test("terminationGracePeriodSeconds exceeds preStop sleep + drain + grace read from the ConfigMap", () => {
    const data = configData(defaults);
    const shutdownS = (Number(data.EXITS_SHUTDOWN_DRAIN_MS) + Number(data.EXITS_SHUTDOWN_GRACE_MS)) / 1000;
    assert.equal(shutdownS, 25);
    for (const [name, dep] of deployments(defaults)) {
      const preStop = container(dep).lifecycle.preStop.sleep.seconds;
      assert.ok(preStop > 0);
      assert.ok(dep.spec.template.spec.terminationGracePeriodSeconds > preStop + shutdownS, name);
      assert.deepEqual(container(dep).envFrom, [{ configMapRef: { name: prefix } }]);
    }
    // Kubernetes < 1.30 has no sleep action: the chart falls back to the image's sleep.
    const old = objects(renderChart("--kube-version", "v1.29.4"));
    assert.deepEqual(container(named(old, "Deployment", `${prefix}-crf`)).lifecycle.preStop, {
      exec: { command: ["sleep", "5"] },
    });
  });

  test("pods run non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp", () => {
    for (const [name, dep] of deployments(defaults)) {
      const pod = dep.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 10001);
      assert.equal(pod.securityContext.fsGroup, 10001);
      assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
      const sc = container(dep).securityContext;
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities.drop, ["ALL"]);
      const volumes = Object.fromEntries(pod.volumes.map((v: K8sObject) => [v.name, v]));
      assert.deepEqual(volumes.tmp.emptyDir, { medium: "Memory", sizeLimit: "1Gi" });
      assert.equal(volumes.data.persistentVolumeClaim.claimName, `${prefix}-data`);
      const mounts = Object.fromEntries(container(dep).volumeMounts.map((m: K8sObject) => [m.name, m.mountPath]));
      assert.deepEqual(mounts, { data: configData(defaults).EXITS_DATA_DIR, tmp: "/tmp" }, name);
      const stateful = name === "trainer" || name === "exporter";
      assert.equal(dep.spec.strategy.type, stateful ? "Recreate" : "RollingUpdate", name);
      if (stateful) assert.equal(dep.spec.replicas, 1);
    }
    const pvc = named(defaults, "PersistentVolumeClaim", `${prefix}-data`);
    assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
  });

  test("PodDisruptionBudgets select exactly their own service's pods", () => {
    const deps = deployments(defaults);
    for (const pdb of ofKind(defaults, "PodDisruptionBudget")) {
      const matched = [...deps].filter(([, d]) => selects(pdb.spec.selector, d.spec.template.metadata.labels));
      assert.deepEqual(
        matched.map(([n]) => `${prefix}-${n}`),
        [pdb.metadata.name],
      );
      assert.deepEqual(pdb.spec.selector, matched[0]?.[1].spec.selector);
    }
  });

  test("NetworkPolicy: only mask's gRPC port is open outside the release; metrics only to monitoring", () => {
    const deps = deployments(defaults);
    const releaseLabels = { "app.kubernetes.io/name": "exits", "app.kubernetes.io/instance": "release-name" };
    for (const [name, dep] of deps) {
      const policy = named(defaults, "NetworkPolicy", `${prefix}-${name}`);
      assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
      const selected = [...deps].filter(([, d]) => selects(policy.spec.podSelector, d.spec.template.metadata.labels));
      assert.deepEqual(
        selected.map(([n]) => n),
        [name],
      );
      const grpcPort = DEFAULT_GRPC_PORTS[name];
      const rulesFor = (port: number) =>
        policy.spec.ingress.filter((r: K8sObject) => r.ports.some((p: K8sObject) => p.port === port));
      const ruleCovered = policy.spec.ingress.flatMap((r: K8sObject) => r.ports.map((p: K8sObject) => p.port));
      assert.deepEqual([...new Set(ruleCovered)].sort(), [grpcPort, grpcPort + 1000].sort(), "no other port is opened");
      const grpcRules = rulesFor(grpcPort);
      const open = grpcRules.filter((r: K8sObject) => r.from === undefined);
      assert.equal(open.length, name === "mask" ? 1 : 0, `${name}: gRPC open to everyone?`);
      for (const rule of grpcRules.filter((r: K8sObject) => r.from)) {
        assert.deepEqual(rule.from, [{ podSelector: { matchLabels: releaseLabels } }]);
        assert.ok(selects(rule.from[0].podSelector, dep.spec.template.metadata.labels));
      }
      const metricsRules = rulesFor(grpcPort + 1000);
      assert.equal(metricsRules.length, 1);
      assert.deepEqual(metricsRules[0].from, [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      ]);
    }
  });

  test("GPU limits, CUDA image, node selector, tolerations and RuntimeClass only with GPU values", () => {
    for (const [name, dep] of deployments(defaults)) {
      assert.ok(!JSON.stringify(dep).includes("nvidia.com/gpu"), `${name} mentions a GPU by default`);
      assert.match(container(dep).image, /^ghcr\.io\/exits\/exits:0\.1\.0-cpu$/);
      assert.equal(dep.spec.template.spec.runtimeClassName, undefined);
    }
    for (const [name, dep] of deployments(gpu)) {
      const c = container(dep);
      const pod = dep.spec.template.spec;
      if (GPU_SERVICES.includes(name)) {
        assert.equal(c.resources.limits["nvidia.com/gpu"], 1, name);
        assert.equal(c.image, "ghcr.io/exits/exits:0.1.0-cuda");
        assert.equal(envValue(c, "EXITS_EXECUTION_PROVIDER"), "cuda");
        assert.equal(pod.runtimeClassName, "nvidia");
        assert.deepEqual(pod.nodeSelector, { "nvidia.com/gpu.present": "true" });
        assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
      } else {
        assert.equal(c.resources.limits?.["nvidia.com/gpu"], undefined, name);
        assert.equal(c.image, "ghcr.io/exits/exits:0.1.0-cpu");
        assert.equal(pod.runtimeClassName, undefined);
        assert.equal(pod.tolerations, undefined);
      }
    }
  });

  test("GPU values: the HPA scales the mask Deployment, which leaves replicas to it; ServiceMonitor selects every metrics port", () => {
    const hpa = ofKind(gpu, "HorizontalPodAutoscaler")[0];
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: `${prefix}-mask` });
    assert.deepEqual(
      hpa.spec.metrics.map((m: K8sObject) => m.type),
      ["Resource", "Pods"],
    );
    assert.equal(named(gpu, "Deployment", `${prefix}-mask`).spec.replicas, undefined);
    const monitor = ofKind(gpu, "ServiceMonitor")[0];
    const services = ofKind(gpu, "Service");
    assert.equal(services.filter((s) => selects(monitor.spec.selector, s.metadata.labels)).length, 6);
    assert.deepEqual(
      monitor.spec.endpoints.map((e: K8sObject) => [e.port, e.path]),
      [["metrics", "/metrics"]],
    );
    for (const s of services) assert.ok(s.spec.ports.some((p: K8sObject) => p.name === "metrics"));
  });

  test("KEDA ScaledObject with a Prometheus trigger; exclusive with the HPA; needs a server address", () => {
    const keda = ["--set", "services.mask.keda.enabled=true"];
    const address = ["--set", "services.mask.keda.prometheus.serverAddress=http://prometheus.monitoring:9090"];
    const all = objects(renderChart(...keda, ...address));
    const scaled = ofKind(all, "ScaledObject");
    assert.equal(scaled.length, 1);
    for (const o of all) validateObject(o);
    assert.equal(scaled[0].spec.scaleTargetRef.name, `${prefix}-mask`);
    assert.equal(scaled[0].spec.minReplicaCount, 1);
    assert.equal(scaled[0].spec.triggers[0].type, "prometheus");
    assert.equal(ofKind(all, "HorizontalPodAutoscaler").length, 0);
    assert.match(renderFailure(...keda), /services\.mask\.keda\.prometheus\.serverAddress is required/);
    assert.match(
      renderFailure(...keda, ...address, "--set", "services.mask.autoscaling.enabled=true"),
      /exclude each other: KEDA creates its own HorizontalPodAutoscaler/,
    );
  });

  test("RBAC: only the exporter gets a token, bound to a namespaced Role with exactly what its Jobs need", () => {
    const role = ofKind(defaults, "Role")[0];
    assert.deepEqual(role.rules, [
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"] },
    ]);
    assert.equal(ofKind(defaults, "ClusterRole").length + ofKind(defaults, "ClusterRoleBinding").length, 0);
    const binding = ofKind(defaults, "RoleBinding")[0];
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: role.metadata.name,
    });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: `${prefix}-exporter`, namespace: "default" }]);
    for (const [name, dep] of deployments(defaults)) {
      const pod = dep.spec.template.spec;
      if (name === "exporter") {
        assert.equal(pod.serviceAccountName, `${prefix}-exporter`);
        assert.equal(pod.automountServiceAccountToken, true);
      } else {
        assert.equal(pod.serviceAccountName, prefix);
        assert.equal(pod.automountServiceAccountToken, false);
      }
    }
    const exporter = container(named(defaults, "Deployment", `${prefix}-exporter`));
    assert.deepEqual(exporter.env.find((e: K8sObject) => e.name === "EXITS_K8S_NAMESPACE").valueFrom, {
      fieldRef: { fieldPath: "metadata.namespace" },
    });
    assert.equal(envValue(exporter, "EXITS_K8S_SHARD_IMAGE"), exporter.image);
    assert.equal(envValue(exporter, "EXITS_K8S_SERVICE_ACCOUNT"), prefix);
    assert.equal(envValue(exporter, "EXITS_K8S_DATA_PVC"), `${prefix}-data`);
    const shardAccount = named(defaults, "ServiceAccount", prefix);
    assert.equal(shardAccount.automountServiceAccountToken, false);
  });

  test("the ConfigMap carries the EXITS_* configuration and the peers' in-release addresses", () => {
    const data = configData(defaults);
    assert.equal(data.EXITS_GRPC_MAX_MESSAGE_MB, "64");
    assert.equal(data.EXITS_SIMILARITY_ADDRESS, `${prefix}-similarity:50051`);
    assert.equal(data.EXITS_RETRIEVAL_ADDRESS, `${prefix}-retrieval:50052`);
    assert.equal(data.EXITS_CRF_ADDRESS, `${prefix}-crf:50054`);
    assert.equal(data.EXITS_MASK_ADDRESS, `${prefix}-mask:50055`);
    for (const value of Object.values(data)) assert.equal(typeof value, "string");
    const tuned = objects(
      renderChart(
        "--set",
        "services.mask.batching.maxBatch=16,config.shutdownGraceMs=2000000",
        "--set",
        "terminationGracePeriodSeconds=2100",
      ),
    );
    assert.equal(configData(tuned).EXITS_SHUTDOWN_GRACE_MS, "2000000"); // not 2e+06
    assert.equal(envValue(container(named(tuned, "Deployment", `${prefix}-mask`)), "EXITS_MASK_MAX_BATCH"), "16");
  });

  test("settings the chart refuses give a clear error", () => {
    // The schema catches an empty repository before the template's `required` would.
    assert.match(
      renderFailure("--set", "image.repository="),
      /image\.repository: String length must be greater than or equal to 1/,
    );
    assert.match(
      renderFailure("--set", "services.trainer.replicaCount=2"),
      /services\.trainer\.replicaCount must be 1/,
    );
    assert.match(
      renderFailure("--set", "terminationGracePeriodSeconds=30"),
      /terminationGracePeriodSeconds \(30\) must exceed .* \(30 s\)/,
    );
    assert.match(renderFailure("--kube-version", "1.26.0"), /requires kubeVersion: >=1\.27\.0-0/);
  });

  test("values.schema.json rejects wrong types, unknown keys and bad enums, naming the path", () => {
    const error = renderFailure(
      "--set",
      "services.mask.grpcPort=mask",
      "--set",
      "image.flavor=rocm",
      "--set",
      "servics.mask.enabled=false",
    );
    assert.match(error, /services\.mask\.grpcPort: Invalid type\. Expected: integer, given: string/);
    assert.match(error, /image\.flavor: must be one of the following: "cpu", "cuda"/);
    assert.match(error, /Additional property servics is not allowed/);
  });

  test("values.schema.json is valid draft-07 and accepts the default and GPU values (Ajv, where installed)", async (t) => {
    const require = createRequire(import.meta.url);
    let Ajv:
      | (new (
          opts: object,
        ) => { compile(s: object): ((v: unknown) => boolean) & { errors?: unknown } })
      | undefined;
    try {
      Ajv = require("ajv").default;
    } catch {
      t.skip("ajv is not in node_modules (it comes with @kubernetes-models/validate)");
      return;
    }
    assert.ok(Ajv);
    const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8"));
    const check = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
    const valuesOf = (file: string) => JSON.parse(runRenderer(["--yaml2json"], readFileSync(file, "utf8")).stdout)[0];
    const defaultsValues = valuesOf(join(chartDir, "values.yaml"));
    assert.ok(check(defaultsValues), JSON.stringify(check.errors));
    assert.ok(check(valuesOf(GPU_VALUES)), JSON.stringify(check.errors));
    assert.ok(!check({ ...defaultsValues, tmpSizeLimit: 12 }));
  });

  test("every value is documented with @param in values.yaml and listed in the README", () => {
    const text = readFileSync(join(chartDir, "values.yaml"), "utf8");
    const documented = new Set([...text.matchAll(/^\s*## @param (\S+)/gm)].map((m) => m[1] as string));
    const values = JSON.parse(runRenderer(["--yaml2json"], text).stdout)[0];
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (path && documented.has(path)) return;
      if (node && typeof node === "object" && !Array.isArray(node) && Object.keys(node).length > 0) {
        for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
      } else missing.push(path);
    };
    walk(values, "");
    assert.deepEqual(missing, []);
    const readme = readFileSync(join(chartDir, "README.md"), "utf8");
    assert.deepEqual(
      [...documented].filter((p) => !readme.includes(`\`${p}\``)),
      [],
    );
  });

  test("YAML output has a # Source header per document; NOTES.txt renders separately", () => {
    const yaml = runRenderer([chartDir]).stdout;
    const sources = [...yaml.matchAll(/^# Source: (exits\/templates\/\S+)$/gm)].map((m) => m[1]);
    assert.equal(sources.length, defaults.length);
    assert.ok(!sources.some((s) => s?.endsWith("NOTES.txt") || s?.includes("/_")));
    const notes = runRenderer(["--notes", "-f", GPU_VALUES, chartDir]);
    assert.equal(notes.status, 0, notes.stderr);
    assert.match(notes.stdout, /release-name-exits-mask:50055/);
    assert.match(notes.stdout, /mask\s+\S+ +image ghcr\.io\/exits\/exits:0\.1\.0-cuda\s+\(1 GPU\)/);
    assert.match(notes.stdout, /HorizontalPodAutoscaler, 1\.\.4 mask pods/);
  });
});
