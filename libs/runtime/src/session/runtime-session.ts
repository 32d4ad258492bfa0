import { type Logger, silentLogger } from "@exits/base";
import ort from "onnxruntime-node";
import type { HostDType, HostTensor } from "../tensor/host-tensor.js";
import { missingCudaLibraries } from "./cuda-libraries.js";
import { fromOrtTensor, toOrtTensor } from "./ort-tensor.js";
import { type RuntimeConfig, resolveRuntimeConfig } from "./runtime-config.js";

/** The provider a session actually runs on. */
export type ActiveProvider = "cpu" | "cuda";

/** How {@link createSession} (and `compileGraph`, `TrainStepRunner.create`) open a session. */
export interface CreateSessionOptions {
  readonly config?: Partial<RuntimeConfig>;
  readonly logger?: Logger;
  /** A name for logs and profiles. */
  readonly name?: string;
}

/** One model input or output as ONNX Runtime reports it. */
export interface TensorSignature {
  readonly name: string;
  readonly dtype: HostDType | string;
  /** Sizes, or the symbolic name of a free dimension. */
  readonly shape: readonly (number | string)[];
}

/** Set once CUDA failed to load in this process: later sessions fall back without re-trying. */
let cudaFailure: string | undefined;

function sessionOptions(
  c: RuntimeConfig,
  providers: ort.InferenceSession.ExecutionProviderConfig[],
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: c.intraOpNumThreads,
    interOpNumThreads: c.interOpNumThreads,
    executionMode: c.executionMode,
    graphOptimizationLevel: c.graphOptimizationLevel,
    enableCpuMemArena: c.enableCpuMemArena,
    enableMemPattern: c.enableMemPattern,
    enableProfiling: c.enableProfiling,
    profileFilePrefix: c.profileFilePrefix,
    logSeverityLevel: c.ortLogSeverityLevel,
    extra: nestEntries({ "session.intra_op.allow_spinning": c.allowSpinning ? "1" : "0", ...c.sessionConfigEntries }),
  };
}

/** ORT-node takes config entries as a nested object whose dotted paths are the entry keys. */
function nestEntries(entries: Readonly<Record<string, string>>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const parts = key.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return root;
}

/**
 * One ONNX Runtime session with typed host tensors in and out. Create it with
 * {@link createSession}, which picks the execution provider from the configuration.
 */
export class RuntimeSession {
  constructor(
    private readonly session: ort.InferenceSession,
    /** The provider the session was created with. */
    readonly provider: ActiveProvider,
    readonly config: RuntimeConfig,
    readonly name: string,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  get inputs(): TensorSignature[] {
    return signatures(this.session.inputMetadata);
  }

  get outputs(): TensorSignature[] {
    return signatures(this.session.outputMetadata);
  }

  /**
   * Runs the model. Every graph input must be fed; `fetches` limits the outputs computed (all
   * by default). Input dtypes are checked against the model before ORT sees them.
   */
  async run(
    feeds: Readonly<Record<string, HostTensor>>,
    fetches?: readonly string[],
  ): Promise<Record<string, HostTensor>> {
    const missing = this.session.inputNames.filter((n) => !(n in feeds));
    if (missing.length) throw new Error(`${this.name}: missing inputs ${missing.join(", ")}`);
    const byName = new Map(this.inputs.map((s) => [s.name, s]));
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const sig = byName.get(name);
      if (!sig)
        throw new Error(
          `${this.name}: the model has no input "${name}" (inputs: ${this.session.inputNames.join(", ")})`,
        );
      if (sig.dtype !== t.dtype) throw new Error(`${this.name}: input "${name}" must be ${sig.dtype}, got ${t.dtype}`);
      const want = sig.shape;
      if (want.length !== t.shape.length || want.some((d, i) => typeof d === "number" && d !== t.shape[i])) {
        throw new Error(
          `${this.name}: input "${name}" must have shape [${want.join(", ")}], got [${t.shape.join(", ")}]`,
        );
      }
      ortFeeds[name] = toOrtTensor(name, t);
    }
    const results = fetches ? await this.session.run(ortFeeds, [...fetches]) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, value] of Object.entries(results)) out[name] = fromOrtTensor(name, value);
    return out;
  }

  /** Ends profiling (when enabled): ORT writes `<profileFilePrefix>_<timestamp>.json` in the working directory. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function signatures(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, dtype: m.type, shape: [...m.shape] }
      : { name: m.name, dtype: "non-tensor", shape: [] },
  );
}

/**
 * Creates a session for an ONNX model (bytes or a file path) on the configured provider. When
 * CUDA is requested but cannot be loaded (no GPU, or the CPU-only build of onnxruntime-node),
 * the session is created on the CPU instead and the fallback is logged with the reason.
 */
export async function createSession(
  model: Uint8Array | string,
  options: CreateSessionOptions = {},
): Promise<RuntimeSession> {
  const config = resolveRuntimeConfig(options.config);
  const logger = options.logger ?? silentLogger;
  const name = options.name ?? (typeof model === "string" ? model : "model");
  const create = (o: ort.InferenceSession.SessionOptions) =>
    typeof model === "string" ? ort.InferenceSession.create(model, o) : ort.InferenceSession.create(model, o);

  if (config.executionProvider !== "cpu") {
    let reason = cudaFailure ?? missingCudaLibraries();
    if (reason === undefined) {
      try {
        // ORT logs the failed provider load itself too; keep it quiet while probing.
        const s = await create({
          ...sessionOptions(config, [{ name: "cuda", deviceId: config.deviceId }, "cpu"]),
          logSeverityLevel: 4,
        });
        logger.info("onnxruntime session created", { session: name, provider: "cuda", deviceId: config.deviceId });
        return new RuntimeSession(s, "cuda", config, name);
      } catch (e) {
        const message = (e as Error).message.split("\n")[0]!;
        // Only a provider that cannot load is a reason to fall back; a bad model fails on the CPU too.
        if (!/cuda|provider|shared librar/i.test(message)) throw e;
        reason = cudaFailure = message;
      }
    }
    const fields = { session: name, requested: config.executionProvider, provider: "cpu", reason };
    if (config.executionProvider === "cuda")
      logger.warn("CUDA execution provider unavailable; falling back to CPU", fields);
    else logger.info("CUDA execution provider unavailable; using CPU", fields);
  }
  const s = await create(sessionOptions(config, ["cpu"]));
  logger.info("onnxruntime session created", {
    session: name,
    provider: "cpu",
    intraOpNumThreads: config.intraOpNumThreads,
    interOpNumThreads: config.interOpNumThreads,
    graphOptimizationLevel: config.graphOptimizationLevel,
  });
  return new RuntimeSession(s, "cpu", config, name);
}

/** Forgets a remembered CUDA failure (tests; or after installing the CUDA libraries at run time). */
export function resetProviderProbe(): void {
  cudaFailure = undefined;
}
