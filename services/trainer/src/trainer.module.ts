import { runtimeModule } from "@exits/platform";
import { TrainerController } from "./trainer.controller.js";
import { TrainerRuntime } from "./trainer-runtime.js";

/** TrainerService: the controller over its runtime (variables read from the service configuration's environment). */
export const TrainerModule = runtimeModule(
  TrainerController,
  TrainerRuntime,
  ({ config, logger, metrics }) => new TrainerRuntime(config, logger, metrics),
);
