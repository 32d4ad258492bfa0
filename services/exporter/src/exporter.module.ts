import { runtimeModule } from "@exits/platform";
import { ExporterController } from "./exporter.controller.js";
import { ExporterRuntime } from "./exporter-runtime.js";

/** ExporterService: the controller over its runtime (variables read from the service configuration's environment). */
export const ExporterModule = runtimeModule(
  ExporterController,
  ExporterRuntime,
  ({ config, logger, metrics }) => new ExporterRuntime(config, logger, metrics),
);
