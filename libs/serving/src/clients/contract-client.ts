import { PROTO_LOADER_OPTIONS, PROTO_ROOT, SERVICE_PROTOS, type ServiceShortName } from "@exits/contracts";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** Options of every call: a deadline in milliseconds from now, and an abort signal. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Unary calls answered UNAVAILABLE (a model still loading, a server draining or restarting)
   * are retried with exponential backoff for up to this long (default 60 s; 0 = never). Every
   * unary RPC of exits.v1 is safe to repeat: predictions are pure, and Start* carry a request_id.
   */
  retryUnavailableMs?: number;
}

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;

const constructors = new Map<ServiceShortName, grpc.ServiceClientConstructor>();

function constructorOf(name: ServiceShortName): grpc.ServiceClientConstructor {
  let ctor = constructors.get(name);
  if (!ctor) {
    const { protoFile, fullName } = SERVICE_PROTOS[name];
    const definition = loadSync(`${PROTO_ROOT}/${protoFile}`, PROTO_LOADER_OPTIONS);
    ctor = grpc.makeGenericClientConstructor(definition[fullName] as grpc.ServiceDefinition, fullName);
    constructors.set(name, ctor);
  }
  return ctor;
}

/**
 * A promise / async-iterator client of one exits.v1 service, built from the committed .proto
 * with the loader options the servers use, so requests and replies have the ts-proto shapes.
 * The ports' gRPC adapters (remote similarity, retrieval, CRF, mask) are written over this.
 */
export class ContractClient {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(
    readonly service: ServiceShortName,
    readonly address: string,
    options: { maxMessageBytes?: number } = {},
  ) {
    const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
    const Ctor = constructorOf(service);
    this.client = new Ctor(address, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": max,
      "grpc.max_send_message_length": max,
    }) as never;
  }

  /** One unary call; rejects with the grpc-js ServiceError (code, details) on a non-OK status. */
  async unary<Req, Res>(method: string, request: Req, options: CallOptions = {}): Promise<Res> {
    const giveUpAt = Date.now() + (options.retryUnavailableMs ?? 60_000);
    for (let wait = RETRY_FIRST_MS; ; wait = Math.min(RETRY_MAX_MS, wait * 2)) {
      try {
        return await this.unaryOnce<Req, Res>(method, request, options);
      } catch (error) {
        const unavailable = (error as grpc.ServiceError).code === grpc.status.UNAVAILABLE;
        if (!unavailable || options.signal?.aborted || Date.now() + wait > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private unaryOnce<Req, Res>(method: string, request: Req, options: CallOptions): Promise<Res> {
    const fn = this.method(method);
    return new Promise<Res>((resolve, reject) => {
      const call = fn.call(this.client, request, callOptions(options), (error: grpc.ServiceError | null, reply: Res) =>
        error ? reject(error) : resolve(reply),
      ) as grpc.ClientUnaryCall;
      options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  /** A server-streaming call as an async iterator; breaking out of the loop cancels the call. */
  async *stream<Req, Res>(method: string, request: Req, options: CallOptions = {}): AsyncGenerator<Res> {
    const fn = this.method(method);
    const call = fn.call(this.client, request, callOptions(options)) as grpc.ClientReadableStream<Res>;
    options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    try {
      for await (const message of call) yield message as Res;
    } finally {
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }

  private method(name: string): (...args: unknown[]) => unknown {
    const fn = this.client[name];
    if (typeof fn !== "function") throw new Error(`${SERVICE_PROTOS[this.service].fullName} has no method ${name}`);
    return fn;
  }
}

function callOptions(options: CallOptions): grpc.CallOptions {
  return options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
}
