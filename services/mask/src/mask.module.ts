import { runtimeModule } from "@exits/platform";
import type { Type } from "@nestjs/common";
import { MaskController } from "./mask.controller.js";
import { MaskRuntime, type MaskRuntimeHooks } from "./mask-runtime.js";

/**
 * A MaskService module; health follows the default generator through the platform's readiness
 * (NOT_SERVING while it loads or is absent). `hooks` are for tests; `MaskModule` has none.
 */
export function maskModule(hooks: MaskRuntimeHooks = {}): Type<unknown> {
  return runtimeModule(
    MaskController,
    MaskRuntime,
    ({ config, logger, metrics, readiness }) => new MaskRuntime(config, logger, metrics, readiness, hooks),
  );
}

export const MaskModule = maskModule();
