import type { ExecutionProviderChoice } from "@exits/base";
import { type ExecutionConfig, ExecutionProvider, type ExportConfig } from "@exits/contracts";
import type { MethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";
import { check, present, resolveOnto } from "../config/config-field.js";
import { applyCrfConfig, crfConfigToWire } from "../config/crf-config.js";
import { applyCropConfig, cropConfigToWire } from "../config/crop-config.js";

/** ExportConfig's stated defaults (config.proto). */
export const EXPORT_DEFAULTS = { pasteThreshold: 0.5, batchSize: 16 } as const;
const MAX_BATCH = 1024;

/** How the export's graphs run (ExecutionConfig, resolved; 0 threads = the service's own). */
export interface ExportExecution {
  provider: ExecutionProviderChoice;
  deviceId: number;
  intraOpThreads: number;
  seed: number;
}

/** An export's settings: the method's config and how its graphs run. */
export interface ResolvedExportConfig {
  config: MethodConfig;
  execution: ExportExecution;
  crfRefine: boolean;
  /** The fully resolved wire form (resolved_spec.config, the manifest). */
  wire: ExportConfig;
}

const PROVIDERS: Partial<Record<ExecutionProvider, ExecutionProviderChoice>> = {
  [ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED]: "auto",
  [ExecutionProvider.EXECUTION_PROVIDER_AUTO]: "auto",
  [ExecutionProvider.EXECUTION_PROVIDER_CPU]: "cpu",
  [ExecutionProvider.EXECUTION_PROVIDER_CUDA]: "cuda",
};
const PROVIDER_TO_WIRE: Record<ExecutionProviderChoice, ExecutionProvider> = {
  auto: ExecutionProvider.EXECUTION_PROVIDER_AUTO,
  cpu: ExecutionProvider.EXECUTION_PROVIDER_CPU,
  cuda: ExecutionProvider.EXECUTION_PROVIDER_CUDA,
};

/**
 * A wire ExportConfig (at `prefix`, "spec.config") onto the generator's own MethodConfig: margin
 * and fill through CropConfig (training fields refused), paste threshold in (0, 1), batch size,
 * crf_refine and its CRF settings, execution provider / device / threads / seed.
 */
export function resolveExportConfig(
  base: MethodConfig,
  wireConfig: ExportConfig | null | undefined,
  prefix: string,
  serviceProvider: ExecutionProviderChoice,
): ResolvedExportConfig {
  const w = present(wireConfig) ?? {};
  const f = (name: string) => `${prefix}.${name}`;
  let c = applyCropConfig(base, present(w.crop), f("crop"));
  if (w.pasteThreshold !== undefined)
    check.range(f("paste_threshold"), w.pasteThreshold, 0, 1, { min: true, max: true });
  if (w.batchSize !== undefined) check.integer(f("batch_size"), w.batchSize, 1, MAX_BATCH);
  // The method pastes the generator's probabilities directly (method.md §5); crf_refine runs MAL's
  // CRF over each crop's probabilities first, with the `crf` settings.
  const crfRefine = w.crfRefine ?? false;
  c = applyCrfConfig(c, present(w.crf), f("crf"));
  const execution = resolveExecution(present(w.execution), f("execution"), serviceProvider);
  c = resolveOnto(
    c,
    {
      export: {
        threshold: w.pasteThreshold ?? EXPORT_DEFAULTS.pasteThreshold,
        batch: w.batchSize ?? EXPORT_DEFAULTS.batchSize,
      },
      seed: execution.seed,
    },
    { "export.threshold": f("paste_threshold"), "export.batch": f("batch_size"), seed: f("execution.seed") },
  );
  return {
    config: c,
    execution,
    crfRefine,
    wire: {
      crop: { inferenceMargin: cropConfigToWire(c).inferenceMargin, fill: cropConfigToWire(c).fill },
      pasteThreshold: c.export.threshold,
      batchSize: c.export.batch,
      crfRefine,
      crf: crfConfigToWire(c.crf),
      execution: executionToWire(execution),
    },
  };
}

function resolveExecution(
  w: ExecutionConfig | undefined,
  prefix: string,
  serviceProvider: ExecutionProviderChoice,
): ExportExecution {
  const provider = w?.provider ?? ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED;
  const choice = PROVIDERS[provider];
  if (!choice) throw new InvalidArgumentError(`${prefix}.provider`, `unknown execution provider ${provider}`);
  if (w?.deviceId !== undefined) check.integer(`${prefix}.device_id`, w.deviceId, 0, 64);
  if (w?.intraOpThreads !== undefined) check.integer(`${prefix}.intra_op_threads`, w.intraOpThreads, 0, 256);
  if (w?.seed !== undefined) check.integer(`${prefix}.seed`, w.seed, 0, Number.MAX_SAFE_INTEGER);
  return {
    provider: provider === ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED ? serviceProvider : choice,
    deviceId: w?.deviceId ?? 0,
    intraOpThreads: w?.intraOpThreads ?? 0,
    seed: w?.seed ?? 0,
  };
}

function executionToWire(e: ExportExecution): ExecutionConfig {
  return {
    provider: PROVIDER_TO_WIRE[e.provider],
    deviceId: e.deviceId,
    intraOpThreads: e.intraOpThreads,
    seed: e.seed,
  };
}
