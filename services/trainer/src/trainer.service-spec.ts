import { contractServiceSpec } from "@exits/platform";
import { TrainerModule } from "./trainer.module.js";

export const TRAINER_SERVICE_SPEC = contractServiceSpec("trainer", TrainerModule);
