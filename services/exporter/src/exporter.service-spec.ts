import { contractServiceSpec } from "@exits/platform";
import { ExporterModule } from "./exporter.module.js";

export const EXPORTER_SERVICE_SPEC = contractServiceSpec("exporter", ExporterModule);
