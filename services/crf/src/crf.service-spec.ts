import { contractServiceSpec } from "@exits/platform";
import { CrfModule } from "./crf.module.js";

export const CRF_SERVICE_SPEC = contractServiceSpec("crf", CrfModule);
