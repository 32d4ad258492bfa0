import { type SimilarityServiceController, SimilarityServiceControllerMethods } from "@exits/contracts";
import { notImplementedYet } from "@exits/platform";
import { Controller } from "@nestjs/common";

const PLANNED_WITH = "the frozen similarity extractor (method.md §3.1)";

/** exits.v1.SimilarityService. Every RPC answers UNIMPLEMENTED until the frozen similarity extractor lands. */
@Controller()
@SimilarityServiceControllerMethods()
export class SimilarityController implements SimilarityServiceController {
  extractSimilarity(): never {
    return notImplementedYet("SimilarityService.ExtractSimilarity", PLANNED_WITH);
  }

  extractSimilarityStream(): never {
    return notImplementedYet("SimilarityService.ExtractSimilarityStream", PLANNED_WITH);
  }

  getModelInfo(): never {
    return notImplementedYet("SimilarityService.GetModelInfo", PLANNED_WITH);
  }
}
