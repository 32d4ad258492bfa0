import { runServiceMain } from "@exits/platform";
import { CRF_SERVICE_SPEC } from "./crf.service-spec.js";

await runServiceMain(CRF_SERVICE_SPEC);
