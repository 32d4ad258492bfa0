import { type CrfServiceController, CrfServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "the mean-field CRF refinement (method.md §3.6)";

/** exits.v1.CrfService. Every RPC answers UNIMPLEMENTED until the mean-field CRF refinement lands. */
@Controller()
@CrfServiceControllerMethods()
export class CrfController implements CrfServiceController {
  refine(): never {
    return notImplementedYet("CrfService.Refine", PLANNED_WITH);
  }

  getDefaults(): never {
    return notImplementedYet("CrfService.GetDefaults", PLANNED_WITH);
  }
}
