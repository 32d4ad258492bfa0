import { type RetrievalServiceController, RetrievalServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "random-walk point retrieval (method.md §3.2–3.3)";

/** exits.v1.RetrievalService. Every RPC answers UNIMPLEMENTED until random-walk point retrieval lands. */
@Controller()
@RetrievalServiceControllerMethods()
export class RetrievalController implements RetrievalServiceController {
  retrievePoints(): never {
    return notImplementedYet("RetrievalService.RetrievePoints", PLANNED_WITH);
  }

  getDefaults(): never {
    return notImplementedYet("RetrievalService.GetDefaults", PLANNED_WITH);
  }
}
