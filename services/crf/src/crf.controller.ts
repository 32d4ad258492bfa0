import {
  type CrfDefaults,
  type CrfServiceController,
  CrfServiceControllerMethods,
  type RefineRequest,
  type RefineResponse,
} from "@exits/contracts";
import { crfConfigToWire, providerToWire } from "@exits/serving";
import { Controller, Inject } from "@nestjs/common";
import { CrfRuntime } from "./crf-runtime.js";

/** exits.v1.CrfService: a thin adapter over `CrfEngine` (libs/serving/src/crf). */
@Controller()
@CrfServiceControllerMethods()
export class CrfController implements CrfServiceController {
  constructor(@Inject(CrfRuntime) private readonly runtime: CrfRuntime) {}

  refine(request: RefineRequest): Promise<RefineResponse> {
    return this.runtime.engine.refine(request);
  }

  /** The provider is the one ONNX Runtime opened: a one-pixel warm-up graph is compiled if none ran yet. */
  async getDefaults(): Promise<CrfDefaults> {
    const engine = this.runtime.engine;
    const settings = engine.defaults();
    if (!engine.provider) await engine.graph(1, 1, 1, { ...settings, iterations: 1 });
    return { config: crfConfigToWire(settings), provider: providerToWire(engine.provider) };
  }
}
