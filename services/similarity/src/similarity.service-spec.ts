import { contractServiceSpec } from "@exits/platform";
import { SimilarityModule } from "./similarity.module.js";

export const SIMILARITY_SERVICE_SPEC = contractServiceSpec("similarity", SimilarityModule);
