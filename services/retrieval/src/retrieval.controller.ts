import {
  type GetRetrievalDefaultsRequest,
  type RetrievalDefaults,
  type RetrievalServiceController,
  RetrievalServiceControllerMethods,
  type RetrievePointsRequest,
  type RetrievePointsResponse,
} from "@exits/contracts";
import { retrievalDefaults } from "@exits/serving";
import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { Controller, Inject } from "@nestjs/common";
import { RetrievalRuntime } from "./retrieval-runtime.js";

/** exits.v1.RetrievalService: a thin adapter over `RetrievalEngine` (libs/serving/src/retrieval). */
@Controller()
@RetrievalServiceControllerMethods()
export class RetrievalController implements RetrievalServiceController {
  constructor(@Inject(RetrievalRuntime) private readonly runtime: RetrievalRuntime) {}

  retrievePoints(
    request: RetrievePointsRequest,
    _metadata?: Metadata,
    call?: ServerUnaryCall<unknown, unknown>,
  ): Promise<RetrievePointsResponse> {
    const controller = new AbortController();
    call?.on("cancelled", () => controller.abort(new Error("call cancelled")));
    return this.runtime.engine.retrieve(request, controller.signal);
  }

  getDefaults(request: GetRetrievalDefaultsRequest): Promise<RetrievalDefaults> {
    return retrievalDefaults(this.runtime.registry, request);
  }
}
