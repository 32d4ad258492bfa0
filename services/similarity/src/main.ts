import { runServiceMain } from "@exits/platform";
import { SIMILARITY_SERVICE_SPEC } from "./similarity.service-spec.js";

await runServiceMain(SIMILARITY_SERVICE_SPEC);
