import { runtimeModule } from "@exits/platform";
import { SimilarityController } from "./similarity.controller.js";
import { SimilarityRuntime } from "./similarity-runtime.js";

/** SimilarityService: the controller over its runtime (variables read from the service configuration's environment). */
export const SimilarityModule = runtimeModule(
  SimilarityController,
  SimilarityRuntime,
  ({ config, logger, metrics, readiness }) => new SimilarityRuntime(config, logger, metrics, readiness),
);
