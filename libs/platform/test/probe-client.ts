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

  close(): void {
    this.client.close();
  }
}
