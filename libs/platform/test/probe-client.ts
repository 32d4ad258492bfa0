import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { PROBE_SERVICE_SPEC } from "./fixtures/probe.module.js";

type Callback<T> = (error: grpc.ServiceError | null, reply?: T) => void;

/** A plain grpc-js client of the probe fixture, promisified. */
export class ProbeClient {
  private readonly client: grpc.Client &
    Record<string, (req: unknown, opts: grpc.CallOptions, cb: Callback<unknown>) => void>;

  constructor(address: string, options: grpc.ChannelOptions = {}) {
    const { root, files, loaderOptions } = PROBE_SERVICE_SPEC.proto;
    const definition = grpc.loadPackageDefinition(
      loadSync(
        files.map((f) => `${root}/${f}`),
        loaderOptions,
      ),
    );
    const Probe = (definition.exits as grpc.GrpcObject & { testing: { ProbeService: grpc.ServiceClientConstructor } })
      .testing.ProbeService;
    this.client = new Probe(address, grpc.credentials.createInsecure(), options) as never;
  }

  call<T>(method: "echo" | "sleep" | "fail", request: unknown, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method](request, { deadline: Date.now() + timeoutMs }, (error, reply) =>
        error ? reject(error) : resolve(reply as T),
      );
    });
  }

  /** Runs the server-streaming Count and resolves to what arrived and the final error, if any. */
  count(request: { upTo: number; thenFail?: string }): Promise<{ received: number[]; error?: grpc.ServiceError }> {
    return new Promise((resolve) => {
      const received: number[] = [];
      const stream = (
        this.client as unknown as Record<
          string,
          (req: unknown, opts: grpc.CallOptions) => grpc.ClientReadableStream<{ n: number }>
        >
      )["count"]!(request, { deadline: Date.now() + 10_000 });
      stream.on("data", (reply: { n: number }) => received.push(reply.n));
      stream.on("error", (error: grpc.ServiceError) => resolve({ received, error }));
      stream.on("end", () => resolve({ received }));
    });
  }

  close(): void {
    this.client.close();
  }
}
