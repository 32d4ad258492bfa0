import {
  defaultExecutionProvider,
  defaultIntraOpThreads,
  type ExecutionProviderChoice,
  executionProviders,
} from "@exits/base";

/** Session settings, validated once by {@link resolveRuntimeConfig}. */
export interface RuntimeConfig {
  /**
   * Which execution provider to ask ONNX Runtime for:
   * - `cpu`: the CPU provider only;
   * - `cuda`: CUDA (nodes it cannot run stay on the CPU); when CUDA cannot be loaded the session
   *   falls back to the CPU and logs a warning;
   * - `auto`: CUDA when it loads, else the CPU, logged at info level (the expected case on laptops).
   */
  readonly executionProvider: ExecutionProviderChoice;
  /** CUDA device ordinal. */
  readonly deviceId: number;
  /** Threads inside one operator (matmul etc.); default 2 (`defaultIntraOpThreads`), never ORT's every-core default. */
  readonly intraOpNumThreads: number;
  /** Threads running independent operators at once; only used with executionMode `parallel`. */
  readonly interOpNumThreads: number;
  readonly executionMode: "sequential" | "parallel";
  readonly graphOptimizationLevel: "disabled" | "basic" | "extended" | "all";
  /** ORT's CPU memory arena: reuses allocations across runs (faster, holds memory). */
  readonly enableCpuMemArena: boolean;
  /**
   * ORT's memory-pattern planning (pre-allocates one block per run from a recorded pattern).
   * Default false: for the ViT training step it held ~0.4 GB more (1.06 GB vs 0.68 GB peak RSS)
   * with no measurable speed gain.
   */
  readonly enableMemPattern: boolean;
  /** Writes an ORT profile (Chrome trace JSON) per session; see `RuntimeSession.endProfiling`. */
  readonly enableProfiling: boolean;
  readonly profileFilePrefix: string;
  /** ORT's own log threshold: 0 verbose … 3 error, 4 fatal. */
  readonly ortLogSeverityLevel: 0 | 1 | 2 | 3 | 4;
  /**
   * Whether idle intra-op threads spin waiting for work (ORT's default) or sleep. Spinning
   * lowers latency on a dedicated machine but burns CPU that neighbours (other sessions, other
   * pods, a cgroup CPU quota) need: on the shared 2-core development machine a ViT forward ran
   * 20–25 % faster without it. Default false; turn it on for dedicated nodes.
   */
  readonly allowSpinning: boolean;
  /** Further ORT session configuration entries, e.g. `{"session.set_denormal_as_zero": "1"}`. */
  readonly sessionConfigEntries: Readonly<Record<string, string>>;
}

export const defaultRuntimeConfig: RuntimeConfig = {
  executionProvider: defaultExecutionProvider,
  deviceId: 0,
  intraOpNumThreads: defaultIntraOpThreads,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  enableCpuMemArena: true,
  enableMemPattern: false,
  enableProfiling: false,
  profileFilePrefix: "ort-profile",
  ortLogSeverityLevel: 3,
  allowSpinning: false,
  sessionConfigEntries: {},
};

/** Fills defaults and rejects impossible values with a message naming the field. */
export function resolveRuntimeConfig(partial: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const c = { ...defaultRuntimeConfig, ...partial };
  const oneOf = <T>(field: string, value: T, allowed: readonly T[]) => {
    if (!allowed.includes(value))
      throw new Error(`runtime config: ${field} must be one of ${allowed.join(", ")}, got ${String(value)}`);
  };
  const count = (field: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new Error(`runtime config: ${field} must be an integer ≥ ${min}, got ${value}`);
  };
  oneOf("executionProvider", c.executionProvider, executionProviders);
  oneOf("executionMode", c.executionMode, ["sequential", "parallel"] as const);
  oneOf("graphOptimizationLevel", c.graphOptimizationLevel, ["disabled", "basic", "extended", "all"] as const);
  oneOf("ortLogSeverityLevel", c.ortLogSeverityLevel, [0, 1, 2, 3, 4] as const);
  count("intraOpNumThreads", c.intraOpNumThreads, 1);
  count("interOpNumThreads", c.interOpNumThreads, 1);
  count("deviceId", c.deviceId, 0);
  return c;
}
