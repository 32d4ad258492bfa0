import type { V1Job, V1PodFailurePolicy, V1ResourceRequirements, V1Toleration } from "@kubernetes/client-node";

/** Labels that mark a Job as an exits export's (the 409-adoption check reads them back). */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "exits-exporter";
export const EXPORT_JOB_LABEL = "exits/export-job";

/** What one sharded export's Indexed Job looks like. */
export interface IndexedJobSpec {
  /** The export job's id; names the Job and goes into its labels and the shard command. */
  readonly exportJobId: string;
  /** completions: one pod index per shard. */
  readonly shards: number;
  /** At most this many shard pods at once. */
  readonly parallelism: number;
  /** Retries of one index before it is marked failed (the other indexes go on). */
  readonly backoffLimitPerIndex: number;
  /** Fail the whole Job once more than this many indexes failed; unset = let every index run. */
  readonly maxFailedIndexes?: number;
  /** E.g. FailIndex on the exit code the shard command uses for bad input (retrying cannot help). */
  readonly podFailurePolicy?: V1PodFailurePolicy;
  /** The exits image (its ENTRYPOINT is the exits CLI). */
  readonly image: string;
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Overrides the image ENTRYPOINT; the shard arguments follow it. */
  readonly command?: readonly string[];
  readonly serviceAccountName?: string;
  /** The data directory's PersistentVolumeClaim (ReadWriteMany: every shard pod mounts it). */
  readonly dataClaimName: string;
  /** Where the claim is mounted and EXITS_DATA_DIR points. Default /data. */
  readonly dataMountPath?: string;
  readonly resources?: V1ResourceRequirements;
  /** GPUs per shard pod (`nvidia.com/gpu` limit); 0 or unset = none. */
  readonly gpus?: number;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly V1Toleration[];
  readonly runtimeClassName?: string;
  /** Extra environment for the shard pods (EXITS_EXECUTION_PROVIDER, EXITS_INTRA_OP_THREADS, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra labels on the Job and its pods (the chart's release labels). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Let Kubernetes delete the finished Job (and its pods) after this long. */
  readonly ttlSecondsAfterFinished?: number;
  readonly activeDeadlineSeconds?: number;
  /** The non-root UID/GID of the image (Dockerfile USER). Default 10001. */
  readonly runAsUser?: number;
}

/** Job name for an export: DNS-1123 label, short enough for pod names `<job>-<index>-<5>`. */
export function indexedJobName(exportJobId: string): string {
  const safe = exportJobId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `exits-export-${safe}`.slice(0, 52).replace(/-+$/, "");
}

/** The label selector that finds an export's Job. */
export function exportJobSelector(exportJobId: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${EXPORT_JOB_LABEL}=${exportJobId}`;
}

/** Whether `job` was created by {@link buildIndexedJob} for `exportJobId`. */
export function isOurJob(job: V1Job, exportJobId: string): boolean {
  const labels = job.metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY && labels[EXPORT_JOB_LABEL] === exportJobId;
}

/**
 * The batch/v1 Job: completionMode Indexed, completions = shards, each pod running
 * `exits export-shard --job <id> --index $(JOB_COMPLETION_INDEX)` against the shared data claim,
 * locked down (non-root, read-only root filesystem with a /tmp emptyDir, no capabilities,
 * RuntimeDefault seccomp).
 */
export function buildIndexedJob(spec: IndexedJobSpec, namespace: string): V1Job {
  if (!Number.isInteger(spec.shards) || spec.shards < 1) throw new Error(`shards must be >= 1, got ${spec.shards}`);
  if (!Number.isInteger(spec.parallelism) || spec.parallelism < 1)
    throw new Error(`parallelism must be >= 1, got ${spec.parallelism}`);
  const mountPath = spec.dataMountPath ?? "/data";
  const uid = spec.runAsUser ?? 10001;
  const labels = {
    ...spec.labels,
    "app.kubernetes.io/name": "exits",
    "app.kubernetes.io/component": "export-shard",
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [EXPORT_JOB_LABEL]: spec.exportJobId,
  };
  const resources: V1ResourceRequirements = {
    ...spec.resources,
    limits: { ...spec.resources?.limits, ...(spec.gpus ? { "nvidia.com/gpu": String(spec.gpus) } : {}) },
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: indexedJobName(spec.exportJobId), namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: spec.shards,
      parallelism: Math.min(spec.parallelism, spec.shards),
      backoffLimitPerIndex: spec.backoffLimitPerIndex,
      ...(spec.maxFailedIndexes !== undefined ? { maxFailedIndexes: spec.maxFailedIndexes } : {}),
      ...(spec.podFailurePolicy ? { podFailurePolicy: spec.podFailurePolicy } : {}),
      ...(spec.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished } : {}),
      ...(spec.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: spec.activeDeadlineSeconds } : {}),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
          ...(spec.runtimeClassName ? { runtimeClassName: spec.runtimeClassName } : {}),
          ...(spec.nodeSelector ? { nodeSelector: { ...spec.nodeSelector } } : {}),
          ...(spec.tolerations ? { tolerations: [...spec.tolerations] } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "export-shard",
              image: spec.image,
              ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
              ...(spec.command ? { command: [...spec.command] } : {}),
              // $(JOB_COMPLETION_INDEX) is expanded by the kubelet from the env entry below.
              args: ["export-shard", "--job", spec.exportJobId, "--index", "$(JOB_COMPLETION_INDEX)"],
              env: [
                {
                  // Kubernetes sets it for Indexed Jobs too; declared so the args expansion never depends on that.
                  name: "JOB_COMPLETION_INDEX",
                  valueFrom: {
                    fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
                  },
                },
                { name: "EXITS_DATA_DIR", value: mountPath },
                ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
              ],
              resources,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "data", mountPath },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "data", persistentVolumeClaim: { claimName: spec.dataClaimName } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}
