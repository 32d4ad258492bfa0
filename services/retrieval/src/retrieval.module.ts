import { runtimeModule } from "@exits/platform";
import { RetrievalController } from "./retrieval.controller.js";
import { RetrievalRuntime } from "./retrieval-runtime.js";

/** RetrievalService: the controller over its runtime (variables read from the service configuration's environment). */
export const RetrievalModule = runtimeModule(
  RetrievalController,
  RetrievalRuntime,
  ({ config, logger, metrics, readiness }) => new RetrievalRuntime(config, logger, metrics, readiness),
);
