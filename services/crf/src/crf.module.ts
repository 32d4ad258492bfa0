import { runtimeModule } from "@exits/platform";
import { CrfController } from "./crf.controller.js";
import { CrfRuntime } from "./crf-runtime.js";

/** CrfService: the controller over its runtime (variables read from the service configuration's environment). */
export const CrfModule = runtimeModule(
  CrfController,
  CrfRuntime,
  ({ config, logger, metrics }) => new CrfRuntime(config, logger, metrics),
);
