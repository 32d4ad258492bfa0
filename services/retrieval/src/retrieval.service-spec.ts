import { contractServiceSpec } from "@exits/platform";
import { RetrievalModule } from "./retrieval.module.js";

export const RETRIEVAL_SERVICE_SPEC = contractServiceSpec("retrieval", RetrievalModule);
