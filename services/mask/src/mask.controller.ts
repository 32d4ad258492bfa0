import {
  type GetModelInfoRequest,
  type ImageMasks,
  type MaskServiceController,
  MaskServiceControllerMethods,
  type ModelInfo,
  type PredictMasksRequest,
  type PredictMasksResponse,
} from "@exits/contracts";
import { type CallContext, modelInfo } from "@exits/serving";
import type { Metadata, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import { Controller, Inject } from "@nestjs/common";
import { Observable } from "rxjs";
import { MaskRuntime } from "./mask-runtime.js";

/** The call's deadline and cancellation, for the batcher to drop work nobody waits for. */
function callContext(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown> | undefined): {
  context: CallContext;
  done: () => void;
} {
  const controller = new AbortController();
  if (!call) return { context: { signal: controller.signal }, done: () => undefined };
  const onCancel = () => controller.abort();
  call.on("cancelled", onCancel);
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : Number.isFinite(d) ? Number(d) : undefined;
  return { context: { deadline, signal: controller.signal }, done: () => call.off("cancelled", onCancel) };
}

/** exits.v1.MaskService: a thin adapter over `MaskInference` (libs/serving/src/mask). */
@Controller()
@MaskServiceControllerMethods()
export class MaskController implements MaskServiceController {
  constructor(@Inject(MaskRuntime) private readonly runtime: MaskRuntime) {}

  async predictMasks(
    request: PredictMasksRequest,
    _metadata?: Metadata,
    call?: ServerUnaryCall<unknown, unknown>,
  ): Promise<PredictMasksResponse> {
    const { context, done } = callContext(call);
    try {
      const { model, settings, images } = await this.runtime.inference.predict(request, context);
      const out: ImageMasks[] = [];
      for await (const image of images) out.push(image);
      return { images: out, model, config: settings.wire };
    } finally {
      done();
    }
  }

  predictMasksStream(
    request: PredictMasksRequest,
    _metadata?: Metadata,
    call?: ServerWritableStream<unknown, unknown>,
  ): Observable<ImageMasks> {
    return new Observable<ImageMasks>((subscriber) => {
      const { context, done } = callContext(call);
      let iterator: AsyncGenerator<ImageMasks> | undefined;
      let stopped = false;
      (async () => {
        const { images } = await this.runtime.inference.predict(request, context);
        iterator = images;
        if (stopped) {
          await images.return(undefined);
          return;
        }
        for await (const image of images) {
          if (stopped) break;
          subscriber.next(image);
        }
      })().then(
        () => {
          done();
          subscriber.complete();
        },
        (error: unknown) => {
          done();
          subscriber.error(error);
        },
      );
      return () => {
        stopped = true;
        void iterator?.return(undefined);
      };
    });
  }

  async getModelInfo(request: GetModelInfoRequest): Promise<ModelInfo> {
    const d = await this.runtime.registry.describe("model", request.model ?? "");
    if (!d.ready) return modelInfo(d);
    // The provider actually in use (CUDA may have fallen back to the CPU), from the version's session.
    const lease = await this.runtime.registry.acquire("model", request.model ?? "");
    try {
      return modelInfo({ ...d, provider: await this.runtime.inference.providerOf(lease) });
    } finally {
      lease.release();
    }
  }
}
