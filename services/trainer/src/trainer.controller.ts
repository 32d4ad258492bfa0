import { type TrainerServiceController, TrainerServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "extractor and generator training (method.md §3.1, §3.5–3.6)";

/** exits.v1.TrainerService. Every RPC answers UNIMPLEMENTED until extractor and generator training lands. */
@Controller()
@TrainerServiceControllerMethods()
export class TrainerController implements TrainerServiceController {
  startJob(): never {
    return notImplementedYet("TrainerService.StartJob", PLANNED_WITH);
  }

  watchJob(): never {
    return notImplementedYet("TrainerService.WatchJob", PLANNED_WITH);
  }

  getJob(): never {
    return notImplementedYet("TrainerService.GetJob", PLANNED_WITH);
  }

  cancelJob(): never {
    return notImplementedYet("TrainerService.CancelJob", PLANNED_WITH);
  }

  listJobs(): never {
    return notImplementedYet("TrainerService.ListJobs", PLANNED_WITH);
  }

  resumeJob(): never {
    return notImplementedYet("TrainerService.ResumeJob", PLANNED_WITH);
  }
}
