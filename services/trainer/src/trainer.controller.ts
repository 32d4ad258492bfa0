import {
  type CancelJobRequest,
  type GetJobRequest,
  type ListJobsRequest,
  type ListTrainingJobsResponse,
  type ResumeTrainingJobRequest,
  type StartTrainingJobRequest,
  type TrainerServiceController,
  TrainerServiceControllerMethods,
  type TrainingJob,
  type TrainingJobEvent,
  type WatchJobRequest,
} from "@exits/contracts";
import { toGrpcStatus } from "@exits/platform";
import { Controller, Inject } from "@nestjs/common";
import { Observable } from "rxjs";
import { TrainerRuntime } from "./trainer-runtime.js";

/** exits.v1.TrainerService: a thin adapter over @exits/serving TrainerJobs. */
@Controller()
@TrainerServiceControllerMethods()
export class TrainerController implements TrainerServiceController {
  constructor(@Inject(TrainerRuntime) private readonly runtime: TrainerRuntime) {}

  startJob(request: StartTrainingJobRequest): Promise<TrainingJob> {
    return this.runtime.jobs.start(request);
  }

  watchJob(request: WatchJobRequest): Observable<TrainingJobEvent> {
    const abort = new AbortController();
    // Thrown here (NOT_FOUND), so the platform's filter maps it like a unary error.
    const events = this.runtime.jobs.watch(request.jobId, request.afterSequence ?? 0, abort.signal);
    return new Observable<TrainingJobEvent>((subscriber) => {
      (async () => {
        for await (const event of events) subscriber.next(event);
        subscriber.complete();
      })().catch((error) => subscriber.error(toGrpcStatus(error)));
      return () => abort.abort();
    });
  }

  getJob(request: GetJobRequest): TrainingJob {
    return this.runtime.jobs.get(request.jobId);
  }

  cancelJob(request: CancelJobRequest): Promise<TrainingJob> {
    return this.runtime.jobs.cancel(request.jobId, request.reason ?? "");
  }

  listJobs(request: ListJobsRequest): ListTrainingJobsResponse {
    return this.runtime.jobs.list(request);
  }

  resumeJob(request: ResumeTrainingJobRequest): Promise<TrainingJob> {
    return this.runtime.jobs.resume(request);
  }
}
