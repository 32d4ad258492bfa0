import {
  type CancelJobRequest,
  type ExporterServiceController,
  ExporterServiceControllerMethods,
  type ExportJob,
  type ExportJobEvent,
  type GetJobRequest,
  type ListExportJobsResponse,
  type ListJobsRequest,
  type ListSkippedRequest,
  type ListSkippedResponse,
  type ResumeExportJobRequest,
  type StartExportJobRequest,
  type WatchJobRequest,
} from "@exits/contracts";
import { toGrpcStatus } from "@exits/platform";
import { Controller, Inject } from "@nestjs/common";
import { Observable } from "rxjs";
import { ExporterRuntime } from "./exporter-runtime.js";

/** exits.v1.ExporterService: a thin adapter over `ExportJobs` (libs/serving/src/export). */
@Controller()
@ExporterServiceControllerMethods()
export class ExporterController implements ExporterServiceController {
  constructor(@Inject(ExporterRuntime) private readonly runtime: ExporterRuntime) {}

  startJob(request: StartExportJobRequest): Promise<ExportJob> {
    return this.runtime.jobs.start(request);
  }

  watchJob(request: WatchJobRequest): Observable<ExportJobEvent> {
    const abort = new AbortController();
    const events = this.runtime.jobs.watch(request, abort.signal);
    return new Observable<ExportJobEvent>((subscriber) => {
      (async () => {
        for await (const event of events) subscriber.next(event);
        subscriber.complete();
      })().catch((error) => subscriber.error(toGrpcStatus(error)));
      return () => abort.abort();
    });
  }

  getJob(request: GetJobRequest): ExportJob {
    return this.runtime.jobs.get(request);
  }

  cancelJob(request: CancelJobRequest): Promise<ExportJob> {
    return this.runtime.jobs.cancel(request);
  }

  listJobs(request: ListJobsRequest): ListExportJobsResponse {
    return this.runtime.jobs.list(request);
  }

  listSkipped(request: ListSkippedRequest): Promise<ListSkippedResponse> {
    return this.runtime.jobs.listSkipped(request);
  }

  resumeJob(request: ResumeExportJobRequest): Promise<ExportJob> {
    return this.runtime.jobs.resume(request);
  }
}
