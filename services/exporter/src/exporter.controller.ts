import { type ExporterServiceController, ExporterServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "dataset export (method.md §5)";

/** exits.v1.ExporterService. Every RPC answers UNIMPLEMENTED until dataset export lands. */
@Controller()
@ExporterServiceControllerMethods()
export class ExporterController implements ExporterServiceController {
  startJob(): never {
    return notImplementedYet("ExporterService.StartJob", PLANNED_WITH);
  }

  watchJob(): never {
    return notImplementedYet("ExporterService.WatchJob", PLANNED_WITH);
  }

  getJob(): never {
    return notImplementedYet("ExporterService.GetJob", PLANNED_WITH);
  }

  cancelJob(): never {
    return notImplementedYet("ExporterService.CancelJob", PLANNED_WITH);
  }

  listJobs(): never {
    return notImplementedYet("ExporterService.ListJobs", PLANNED_WITH);
  }

  listSkipped(): never {
    return notImplementedYet("ExporterService.ListSkipped", PLANNED_WITH);
  }

  resumeJob(): never {
    return notImplementedYet("ExporterService.ResumeJob", PLANNED_WITH);
  }
}
