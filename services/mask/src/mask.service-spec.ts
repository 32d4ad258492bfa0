import { contractServiceSpec, type RunningService, startGrpcService } from "@exits/platform";
import { MaskModule, maskModule } from "./mask.module.js";
import type { MaskRuntimeHooks } from "./mask-runtime.js";

export const MASK_SERVICE_SPEC = contractServiceSpec("mask", MaskModule);

/** Starts MaskService in this process (tests: `hooks` can slow the model loader down). */
export function startMaskService(
  env: Readonly<Record<string, string | undefined>> = process.env,
  hooks: MaskRuntimeHooks = {},
): Promise<RunningService> {
  return startGrpcService(contractServiceSpec("mask", maskModule(hooks)), env);
}
