import * as grpc from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import { type GrpcOptions, ServerGrpc } from "@nestjs/microservices";
import { HealthService, healthPackageDefinition } from "../health/health-service.js";
import { DescriptorIndex } from "../reflection/descriptor-index.js";
import { ReflectionServer } from "../reflection/reflection-server.js";
import { makeRequestsStrict } from "./strict-requests.js";

type ServerGrpcOptions = GrpcOptions["options"];

/** `grpc.health.v1.Health`, which every server also serves. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/**
 * NestJS's gRPC transport plus what every exits service needs on the wire: the standard
 * `grpc.health.v1` service, server reflection over protoc's descriptors (health included),
 * strict request decoding, server interceptors, and the port actually bound (so port 0 works).
 */
export class ExitsGrpcServer extends ServerGrpc {
  readonly health: HealthService;
  readonly descriptors: DescriptorIndex;
  private boundPort: number | undefined;
  private server: grpc.Server | undefined;

  /**
   * `descriptorSets`: binary FileDescriptorSets holding every served file and its imports, and
   * `grpc/health/v1/health.proto`. `interceptors`: `rpcObserver` first (see there).
   */
  constructor(
    private readonly serverOptions: ServerGrpcOptions,
    serviceNames: readonly string[],
    descriptorSets: readonly Uint8Array[],
    private readonly interceptors: grpc.ServerInterceptor[] = [],
  ) {
    const health = new HealthService(serviceNames);
    const descriptors = new DescriptorIndex(descriptorSets);
    for (const name of [...serviceNames, HEALTH_SERVICE]) {
      if (!descriptors.fileOfSymbolName(name)) throw new Error(`no descriptor set declares the service ${name}`);
    }
    super({
      ...serverOptions,
      onLoadPackageDefinition: (definition: PackageDefinition, server: grpc.Server) => {
        // Runs before NestJS builds its services from `definition`, so they get the strict decoders.
        makeRequestsStrict(definition, descriptors);
        makeRequestsStrict(healthPackageDefinition(), descriptors);
        new ReflectionServer(descriptors, [...serviceNames, HEALTH_SERVICE]).addToServer(server);
        health.addToServer(server);
      },
    });
    this.health = health;
    this.descriptors = descriptors;
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error("the gRPC server is not bound yet");
    return this.boundPort;
  }

  get grpcServer(): grpc.Server {
    if (!this.server) throw new Error("the gRPC server is not created yet");
    return this.server;
  }

  /** Same channel options as NestJS's own transport, plus interceptors; keeps the bound port. */
  override async createClient(): Promise<grpc.Server> {
    const options = this.serverOptions;
    const server = new grpc.Server({
      ...(options.channelOptions ?? {}),
      "grpc.max_send_message_length": options.maxSendMessageLength,
      "grpc.max_receive_message_length": options.maxReceiveMessageLength,
      interceptors: this.interceptors,
    });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.url, grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
    return server;
  }
}
