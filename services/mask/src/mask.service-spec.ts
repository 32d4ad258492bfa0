import { contractServiceSpec } from "@exits/platform";
import { MaskModule } from "./mask.module.js";

export const MASK_SERVICE_SPEC = contractServiceSpec("mask", MaskModule);
