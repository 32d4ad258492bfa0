import {
  type ExtractSimilarityRequest,
  type ExtractSimilarityResponse,
  type GetModelInfoRequest,
  type ModelInfo,
  type ObjectSimilarity,
  type SimilarityServiceController,
  SimilarityServiceControllerMethods,
} from "@exits/contracts";
import type { Metadata, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import { Controller, Inject } from "@nestjs/common";
import { Observable } from "rxjs";
import { SimilarityRuntime } from "./similarity-runtime.js";

/** An AbortSignal that fires when the client cancels the call (or its deadline passes). */
export function cancelSignal(call: { on(event: "cancelled", f: () => void): unknown } | undefined): AbortSignal {
  const controller = new AbortController();
  call?.on("cancelled", () => controller.abort(new Error("call cancelled")));
  return controller.signal;
}

/** An async generator as the Observable NestJS streams; unsubscribing stops the generator. */
export function streamOf<T>(generator: AsyncGenerator<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    let stopped = false;
    (async () => {
      for await (const item of generator) {
        if (stopped) break;
        subscriber.next(item);
      }
    })().then(
      () => subscriber.complete(),
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      stopped = true;
      void generator.return(undefined);
    };
  });
}

/** exits.v1.SimilarityService: a thin adapter over `SimilarityRpc` (libs/serving/src/similarity). */
@Controller()
@SimilarityServiceControllerMethods()
export class SimilarityController implements SimilarityServiceController {
  constructor(@Inject(SimilarityRuntime) private readonly runtime: SimilarityRuntime) {}

  extractSimilarity(
    request: ExtractSimilarityRequest,
    _metadata?: Metadata,
    call?: ServerUnaryCall<unknown, unknown>,
  ): Promise<ExtractSimilarityResponse> {
    return this.runtime.rpc.extract(request, cancelSignal(call));
  }

  extractSimilarityStream(
    request: ExtractSimilarityRequest,
    _metadata?: Metadata,
    call?: ServerWritableStream<unknown, unknown>,
  ): Observable<ObjectSimilarity> {
    return streamOf(this.runtime.rpc.extractStream(request, cancelSignal(call)));
  }

  getModelInfo(request: GetModelInfoRequest): Promise<ModelInfo> {
    return this.runtime.rpc.modelInfo(request);
  }
}
