import "reflect-metadata";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Controller, type INestMicroservice, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { type MicroserviceOptions, RpcException, Transport } from "@nestjs/microservices";
import { type Observable, of } from "rxjs";
import {
  type CrfDefaults,
  type CrfServiceController,
  CrfServiceControllerMethods,
  ExecutionProvider,
  JobState,
  PROTO_LOADER_OPTIONS,
  PROTO_PACKAGE,
  type RefineRequest,
  type RefineResponse,
  SERVICE_PROTOS,
  type TrainerServiceController,
  TrainerServiceControllerMethods,
  type TrainingJob,
  type TrainingJobEvent,
} from "./index.js";

// The generated decorators + PROTO_LOADER_OPTIONS behind NestJS's real gRPC transport: what the
// services do. Unary (sync and promise), server streaming and an explicit UNIMPLEMENTED.

const requests: RefineRequest[] = [];

@Controller()
@CrfServiceControllerMethods()
class CrfController implements CrfServiceController {
  refine(request: RefineRequest): RefineResponse {
    requests.push(request);
    return { results: request.items.map((item) => ({ key: item.key, iterations: 7 })) };
  }
  async getDefaults(): Promise<CrfDefaults> {
    return { config: { iterations: 100, zeta: 0.1 }, provider: ExecutionProvider.EXECUTION_PROVIDER_CPU };
  }
}

function unimplemented(method: string): never {
  throw new RpcException({ code: grpc.status.UNIMPLEMENTED, message: `${method} is not implemented in this test` });
}

@Controller()
@TrainerServiceControllerMethods()
class TrainerController implements TrainerServiceController {
  startJob(): TrainingJob {
    return unimplemented("StartJob");
  }
  watchJob(): Observable<TrainingJobEvent> {
    return of(
      {
        sequence: 1,
        timeMs: 10,
        stateChanged: { previous: JobState.JOB_STATE_QUEUED, current: JobState.JOB_STATE_RUNNING, reason: "" },
      },
      {
        sequence: 2,
        timeMs: 20,
        status: {
          state: JobState.JOB_STATE_SUCCEEDED,
          progress: 1,
          done: 4,
          total: 4,
          message: "",
          createdAtMs: 1,
          startedAtMs: 2,
          updatedAtMs: 3,
          finishedAtMs: 4,
          attempt: 1,
          etaMs: 0,
        },
      },
    );
  }
  getJob(): TrainingJob {
    return unimplemented("GetJob");
  }
  cancelJob(): TrainingJob {
    return unimplemented("CancelJob");
  }
  listJobs(): never {
    return unimplemented("ListJobs");
  }
  resumeJob(): TrainingJob {
    return unimplemented("ResumeJob");
  }
}

@Module({ controllers: [CrfController, TrainerController] })
class TestModule {}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === "object");
  return address.port;
}

type Callback = (error: grpc.ServiceError | null, value: unknown) => void;
type LooseClient = grpc.Client & Record<string, (request: unknown, callback?: Callback) => unknown>;

function unary(client: LooseClient, method: string, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    client[method]!(request, (error, value) => (error ? reject(error) : resolve(value as Record<string, unknown>)));
  });
}

describe("generated controllers behind NestJS's gRPC transport", () => {
  let app: INestMicroservice;
  let crf: LooseClient;
  let trainer: LooseClient;

  before(async () => {
    const url = `127.0.0.1:${await freePort()}`;
    const protoPath = [SERVICE_PROTOS.crf.protoFile, SERVICE_PROTOS.trainer.protoFile];
    app = await NestFactory.createMicroservice<MicroserviceOptions>(TestModule, {
      transport: Transport.GRPC,
      options: { package: PROTO_PACKAGE, protoPath, url, loader: PROTO_LOADER_OPTIONS },
      logger: false,
    });
    await app.listen();
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, PROTO_LOADER_OPTIONS));
    const v1 = (loaded["exits"] as grpc.GrpcObject)["v1"] as grpc.GrpcObject;
    const make = (name: string) =>
      new (v1[name] as grpc.ServiceClientConstructor)(url, grpc.credentials.createInsecure()) as unknown as LooseClient;
    crf = make(SERVICE_PROTOS.crf.serviceName);
    trainer = make(SERVICE_PROTOS.trainer.serviceName);
  });

  after(async () => {
    crf?.close();
    trainer?.close();
    await app?.close();
  });

  test("unary: the handler gets a ts-proto-shaped request and its reply arrives", async () => {
    const reply = await unary(crf, "Refine", {
      items: [
        {
          key: "a",
          box: { x0: 1, y0: 2, x1: 30, y1: 40 },
          probabilities: { shape: [2, 2], dtype: 1, data: Buffer.alloc(16) },
        },
      ],
      includeProbabilities: true,
    });
    assert.deepEqual(
      (reply["results"] as Array<Record<string, unknown>>).map((r) => [r["key"], r["iterations"]]),
      [["a", 7]],
    );
    const seen = requests.at(-1)!;
    assert.equal(seen.includeProbabilities, true);
    assert.deepEqual(seen.items[0]!.box, { x0: 1, y0: 2, x1: 30, y1: 40 });
    assert.deepEqual(seen.items[0]!.probabilities!.shape, [2, 2]);
    assert.ok(seen.items[0]!.probabilities!.data instanceof Uint8Array);
  });

  test("unary: a promise reply keeps proto3 optional values and numeric enums", async () => {
    const reply = await unary(crf, "GetDefaults", {});
    assert.equal((reply["config"] as Record<string, unknown>)["iterations"], 100);
    assert.equal(reply["provider"], ExecutionProvider.EXECUTION_PROVIDER_CPU);
  });

  test("server streaming: WatchJob delivers every event, then ends", async () => {
    const events: Array<Record<string, unknown>> = [];
    await new Promise<void>((resolve, reject) => {
      const stream = trainer["WatchJob"]!({ jobId: "j1" }) as grpc.ClientReadableStream<Record<string, unknown>>;
      stream.on("data", (event) => events.push(event));
      stream.on("end", () => resolve());
      stream.on("error", reject);
    });
    assert.deepEqual(
      events.map((e) => e["sequence"]),
      [1, 2],
    );
    assert.equal((events[0]!["stateChanged"] as Record<string, unknown>)["current"], JobState.JOB_STATE_RUNNING);
    assert.equal((events[1]!["status"] as Record<string, unknown>)["finishedAtMs"], 4);
  });

  test("an RpcException with UNIMPLEMENTED reaches the client with its code and message", async () => {
    await assert.rejects(unary(trainer, "GetJob", { jobId: "j1" }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNIMPLEMENTED);
      assert.match(error.details, /GetJob is not implemented/);
      return true;
    });
  });
});
