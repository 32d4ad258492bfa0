import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * The cluster the exporter talks to: in a pod, its ServiceAccount (in-cluster config); elsewhere
 * KUBECONFIG or ~/.kube/config, as kubectl does.
 */
export function loadKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault();
  return config;
}

/** The namespace to create Jobs in: `explicit`, else the pod's own, else the context's, else "default". */
export function jobNamespace(config: KubeConfig, explicit?: string): string {
  if (explicit) return explicit;
  try {
    const own = readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim();
    if (own) return own;
  } catch {
    // not in a pod
  }
  const context = config.getContextObject(config.getCurrentContext());
  return context?.namespace || "default";
}
