import { runServiceMain } from "@exits/platform";
import { RETRIEVAL_SERVICE_SPEC } from "./retrieval.service-spec.js";

await runServiceMain(RETRIEVAL_SERVICE_SPEC);
