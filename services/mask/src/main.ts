import { runServiceMain } from "@exits/platform";
import { MASK_SERVICE_SPEC } from "./mask.service-spec.js";

await runServiceMain(MASK_SERVICE_SPEC);
