import { existsSync } from "node:fs";
import {
  ChildProcessShardRunner,
  IndexedJobClient,
  KubernetesShardRunner,
  type ShardCommand,
  type ShardJobTemplate,
} from "@exits/cluster";
import { ConfigError, EnvReader, type ServiceConfig } from "@exits/platform";
import type { ExportShardRunners } from "@exits/serving";
import { KubeConfig } from "@kubernetes/client-node";

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * Where the exporter's shards run, from its environment:
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | EXITS_EXPORT_SHARD_RUNNER | inline | `inline`: shards in the exporter's process; `process`: each shard a child process `exits export-shard` (what an Indexed Job's pods run), retried per retries_per_shard |
 * | EXITS_EXPORT_SHARD_COMMAND | this process's node, flags and script | the `exits` command line for `process` (JSON array, or words split on spaces); `export-shard --job <id> --index <k>` is appended |
 * | EXITS_K8S_NAMESPACE | (unset: no cluster) | namespace of the Indexed Jobs for sharding.kubernetes_indexed_job |
 * | KUBECONFIG | (unset: in-cluster ServiceAccount) | kubeconfig file(s) when not running in a pod |
 * | EXITS_K8S_SHARD_IMAGE | (required with a cluster) | the exits image of the shard pods |
 * | EXITS_K8S_DATA_PVC | (required with a cluster) | the data directory's ReadWriteMany claim, mounted at EXITS_DATA_DIR in every shard pod |
 * | EXITS_K8S_SERVICE_ACCOUNT | (namespace default) | the shard pods' ServiceAccount |
 * | EXITS_K8S_RELEASE | (unset) | Helm release: `app.kubernetes.io/instance` on the shard pods (the chart's NetworkPolicies select on it) |
 * | EXITS_K8S_SHARD_GPUS | 0 | `nvidia.com/gpu` per shard pod |
 *
 * The shard processes and pods get this service's EXITS_EXECUTION_PROVIDER,
 * EXITS_INTRA_OP_THREADS, EXITS_DEFAULT_GENERATOR and EXITS_EXPORT_CHUNK_IMAGES, and compute
 * masks in process (EXITS_MASK_ADDRESS is the exporter's own).
 */
export function exporterShardRunners(config: ServiceConfig): ExportShardRunners {
  const read = new EnvReader(config.env);
  const shardEnv: Record<string, string> = {
    EXITS_DATA_DIR: config.dataDir,
    EXITS_EXECUTION_PROVIDER: config.executionProvider,
    EXITS_INTRA_OP_THREADS: String(config.intraOpThreads),
    EXITS_DEFAULT_GENERATOR: read.string("EXITS_DEFAULT_GENERATOR", "models/generator"),
    EXITS_EXPORT_CHUNK_IMAGES: String(read.integer("EXITS_EXPORT_CHUNK_IMAGES", 32, { min: 1, max: 100_000 })),
    EXITS_LOG_LEVEL: config.logLevel,
  };
  const mode = read.oneOf("EXITS_EXPORT_SHARD_RUNNER", ["inline", "process"] as const, "inline");
  const local =
    mode === "process"
      ? new ChildProcessShardRunner({
          env: shardEnv,
          shardCommand: commandOf(read.string("EXITS_EXPORT_SHARD_COMMAND", "")),
        })
      : undefined;
  return { local, kubernetes: kubernetesRunner(config, read, shardEnv) };
}

function commandOf(text: string): (jobId: string, index: number) => ShardCommand {
  let base: string[];
  if (text === "") base = [process.execPath, ...process.execArgv, process.argv[1]!];
  else if (text.trimStart().startsWith("[")) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === "string"))
      throw new ConfigError("EXITS_EXPORT_SHARD_COMMAND", "expected a JSON array of strings");
    base = parsed;
  } else base = text.trim().split(/\s+/);
  const [command, ...args] = base as [string, ...string[]];
  return (jobId, index) => ({ command, args: [...args, "export-shard", "--job", jobId, "--index", String(index)] });
}

/** The Indexed Job runner, or what is missing for one (answered as FAILED_PRECONDITION per job). */
function kubernetesRunner(
  config: ServiceConfig,
  read: EnvReader,
  shardEnv: Record<string, string>,
): ExportShardRunners["kubernetes"] {
  const namespace = read.string("EXITS_K8S_NAMESPACE", "");
  if (namespace === "") return { missing: "EXITS_K8S_NAMESPACE is not set" };
  const kube = kubeConfigOf(read);
  if ("missing" in kube) return kube;
  const image = read.string("EXITS_K8S_SHARD_IMAGE", "");
  if (image === "") return { missing: "EXITS_K8S_SHARD_IMAGE is not set" };
  const claim = read.string("EXITS_K8S_DATA_PVC", "");
  if (claim === "") return { missing: "EXITS_K8S_DATA_PVC is not set (the shard pods mount the data directory)" };
  const release = read.string("EXITS_K8S_RELEASE", "");
  const serviceAccount = read.string("EXITS_K8S_SERVICE_ACCOUNT", "");
  const gpus = read.integer("EXITS_K8S_SHARD_GPUS", 0, { min: 0, max: 64 });
  const template: ShardJobTemplate = {
    image,
    dataClaimName: claim,
    // The same path as here, so every absolute path in the job directory means the same there.
    dataMountPath: config.dataDir,
    ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
    ...(gpus > 0 ? { gpus } : {}),
    ...(release ? { labels: { "app.kubernetes.io/instance": release } } : {}),
    env: Object.fromEntries(Object.entries(shardEnv).filter(([k]) => k !== "EXITS_DATA_DIR")),
  };
  const client = new IndexedJobClient(kube.config, namespace);
  return { runner: new KubernetesShardRunner(client, template), client };
}

/** KUBECONFIG when set (as kubectl reads it), else the pod's ServiceAccount; else what is missing. */
function kubeConfigOf(read: EnvReader): { config: KubeConfig } | { missing: string } {
  const config = new KubeConfig();
  const files = read.string("KUBECONFIG", "").split(":").filter(Boolean);
  try {
    if (files.length > 0) {
      config.loadFromFile(files[0]!);
      for (const file of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        config.mergeConfig(more);
      }
    } else if (read.string("KUBERNETES_SERVICE_HOST", "") !== "" && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      config.loadFromCluster();
    } else {
      return { missing: "no kubeconfig: KUBECONFIG is not set and this is not a pod with a ServiceAccount token" };
    }
  } catch (e) {
    return { missing: `the kubeconfig does not load: ${(e as Error).message}` };
  }
  if (!config.getCurrentCluster()) return { missing: "the kubeconfig has no current cluster" };
  return { config };
}
