import { runServiceMain } from "@exits/platform";
import { TRAINER_SERVICE_SPEC } from "./trainer.service-spec.js";

await runServiceMain(TRAINER_SERVICE_SPEC);
