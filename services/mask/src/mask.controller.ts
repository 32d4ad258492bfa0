import { type MaskServiceController, MaskServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "pseudo-mask inference (method.md §5)";

/** exits.v1.MaskService. Every RPC answers UNIMPLEMENTED until pseudo-mask inference lands. */
@Controller()
@MaskServiceControllerMethods()
export class MaskController implements MaskServiceController {
  predictMasks(): never {
    return notImplementedYet("MaskService.PredictMasks", PLANNED_WITH);
  }

  predictMasksStream(): never {
    return notImplementedYet("MaskService.PredictMasksStream", PLANNED_WITH);
  }

  getModelInfo(): never {
    return notImplementedYet("MaskService.GetModelInfo", PLANNED_WITH);
  }
}
