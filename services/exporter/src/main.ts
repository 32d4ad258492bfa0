import { runServiceMain } from "@exits/platform";
import { EXPORTER_SERVICE_SPEC } from "./exporter.service-spec.js";

await runServiceMain(EXPORTER_SERVICE_SPEC);
