import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  chartDir,
  container,
  envValue,
  helmRender,
  type K8sObject,
  kubectl,
  kustomize,
  named,
  ofKind,
  renderChart,
} from "./deploy-tools.js";
import { validateObject } from "./validate-object.js";

const skip = helmRender().skip ?? (kubectl() ? undefined : "kubectl (with kustomize) is not installed");
const SERVICES = ["similarity", "retrieval", "trainer", "crf", "mask", "exporter"];
const GPU_SERVICES = new Set(["similarity", "trainer", "mask", "exporter"]);
const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** Labels only one of the two tools sets. */
function withoutToolLabels(labels: Record<string, string> = {}): Record<string, string> {
  const { "helm.sh/chart": _c, "app.kubernetes.io/managed-by": _m, ...rest } = labels;
  return rest;
}

/** The parts of a Deployment that the base must share with the chart's default render. */
function podShape(dep: K8sObject) {
  const pod = dep.spec.template.spec;
  const c = container(dep);
  return {
    replicas: dep.spec.replicas,
    strategy: dep.spec.strategy,
    selector: dep.spec.selector,
    labels: withoutToolLabels(dep.spec.template.metadata.labels),
    serviceAccountName: pod.serviceAccountName,
    automountServiceAccountToken: pod.automountServiceAccountToken,
    securityContext: pod.securityContext,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
    volumes: pod.volumes,
    image: c.image,
    args: c.args,
    ports: c.ports,
    env: c.env,
    envFrom: c.envFrom,
    startupProbe: c.startupProbe,
    readinessProbe: c.readinessProbe,
    livenessProbe: c.livenessProbe,
    lifecycle: c.lifecycle,
    resources: c.resources,
    containerSecurityContext: c.securityContext,
    volumeMounts: c.volumeMounts,
  };
}

describe("k8s/ kustomize base and overlays", { skip }, () => {
  const base = skip ? [] : kustomize("k8s/base");
  const dev = skip ? [] : kustomize("k8s/overlays/cpu-dev");
  const prod = skip ? [] : kustomize("k8s/overlays/gpu-prod");
  const chart = skip ? [] : renderChart("--name", "exits").map((r) => r.object);
  const chartGpu = skip
    ? []
    : renderChart("--name", "exits", "-f", join(chartDir, "ci/gpu-values.yaml")).map((r) => r.object);

  test("kubectl kustomize builds each overlay and every object passes its Kubernetes schema", () => {
    for (const o of [...base, ...dev, ...prod]) validateObject(o);
    assert.ok(dev.length > 20 && prod.length > dev.length);
  });

  test("the base holds the chart's default objects, with the same ports, probes and security contexts", () => {
    assert.deepEqual(base.map(key).sort(), chart.map(key).sort());
    for (const o of base) {
      const twin = named(chart, o.kind, o.metadata.name);
      assert.deepEqual(withoutToolLabels(o.metadata.labels), withoutToolLabels(twin.metadata.labels), key(o));
      assert.equal(o.metadata.labels["app.kubernetes.io/managed-by"], "kustomize");
      if (o.kind === "Deployment") assert.deepEqual(podShape(o), podShape(twin), key(o));
      else if (o.kind === "ConfigMap") assert.deepEqual(o.data, twin.data);
      else if (o.kind === "Role") assert.deepEqual(o.rules, twin.rules);
      else if (o.kind === "RoleBinding") assert.deepEqual([o.roleRef, o.subjects], [twin.roleRef, twin.subjects]);
      else if (o.kind === "ServiceAccount")
        assert.equal(o.automountServiceAccountToken, twin.automountServiceAccountToken);
      else assert.deepEqual(o.spec, twin.spec, key(o)); // Service, PDB, NetworkPolicy, PVC
    }
  });

  test("cpu-dev: own namespace, CPU image, small requests, a ReadWriteOnce claim, no GPU", () => {
    for (const o of dev) assert.equal(o.metadata.namespace, "exits-dev", key(o));
    assert.ok(!JSON.stringify(dev).includes("nvidia.com/gpu"));
    assert.equal(ofKind(dev, "HorizontalPodAutoscaler").length, 0);
    for (const name of SERVICES) {
      const dep = named(dev, "Deployment", `exits-${name}`);
      const c = container(dep);
      assert.equal(c.image, "ghcr.io/exits/exits:0.1.0-cpu");
      assert.deepEqual(c.resources, { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } });
      assert.equal(dep.spec.template.spec.runtimeClassName, undefined);
      assert.deepEqual(
        c.startupProbe.grpc,
        named(base, "Deployment", `exits-${name}`).spec.template.spec.containers[0].startupProbe.grpc,
      );
    }
    assert.deepEqual(named(dev, "PersistentVolumeClaim", "exits-data").spec.accessModes, ["ReadWriteOnce"]);
    const data = named(dev, "ConfigMap", "exits").data;
    assert.equal(data.EXITS_LOG_LEVEL, "debug");
    assert.equal(data.EXITS_EXECUTION_PROVIDER, "cpu");
    assert.equal(named(dev, "RoleBinding", "exits-exporter").subjects[0].namespace, "exits-dev");
  });

  test("gpu-prod: the GPU services match the chart's GPU render; HPA and ServiceMonitor added", () => {
    for (const o of prod) assert.equal(o.metadata.namespace, "exits", key(o));
    for (const name of SERVICES) {
      const dep = named(prod, "Deployment", `exits-${name}`);
      const twin = named(chartGpu, "Deployment", `exits-${name}`);
      const pod = dep.spec.template.spec;
      const gpuPart = (d: K8sObject) => ({
        image: container(d).image,
        gpus: container(d).resources.limits?.["nvidia.com/gpu"],
        provider: envValue(container(d), "EXITS_EXECUTION_PROVIDER"),
        shardImage: envValue(container(d), "EXITS_K8S_SHARD_IMAGE"),
        runtimeClassName: d.spec.template.spec.runtimeClassName,
        nodeSelector: d.spec.template.spec.nodeSelector,
        tolerations: d.spec.template.spec.tolerations,
        replicas: d.spec.replicas,
      });
      assert.deepEqual(gpuPart(dep), gpuPart(twin), name);
      assert.equal(pod.runtimeClassName, GPU_SERVICES.has(name) ? "nvidia" : undefined);
      assert.equal(container(dep).resources.limits?.["nvidia.com/gpu"], GPU_SERVICES.has(name) ? 1 : undefined);
    }
    assert.equal(named(prod, "Deployment", "exits-mask").spec.replicas, undefined);
    const hpa = ofKind(prod, "HorizontalPodAutoscaler");
    assert.equal(hpa.length, 1);
    assert.deepEqual(hpa[0].spec, named(chartGpu, "HorizontalPodAutoscaler", "exits-mask").spec);
    const monitor = named(prod, "ServiceMonitor", "exits");
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ["exits"] });
    assert.deepEqual(monitor.spec.endpoints, named(chartGpu, "ServiceMonitor", "exits").spec.endpoints);
    assert.deepEqual(named(prod, "PersistentVolumeClaim", "exits-data").spec.accessModes, ["ReadWriteMany"]);
    assert.equal(named(prod, "RoleBinding", "exits-exporter").subjects[0].namespace, "exits");
  });
});
