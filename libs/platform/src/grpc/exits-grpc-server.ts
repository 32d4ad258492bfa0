import * as grpc from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { type GrpcOptions, ServerGrpc } from "@nestjs/microservices";
import { HealthService, healthPackageDefinition } from "../health/health-service.js";

type ServerGrpcOptions = GrpcOptions["options"];

/**
 * NestJS's gRPC transport plus what every exits service needs on the wire: the standard
 * `grpc.health.v1` service, server reflection (health included), server interceptors, and the
 * port actually bound (so port 0 works).
 */
export class ExitsGrpcServer extends ServerGrpc {
  readonly health: HealthService;
  private boundPort: number | undefined;
  private server: grpc.Server | undefined;

  constructor(
    private readonly serverOptions: ServerGrpcOptions,
    serviceNames: readonly string[],
    private readonly interceptors: grpc.ServerInterceptor[] = [],
  ) {
    const health = new HealthService(serviceNames);
    super({
      ...serverOptions,
      onLoadPackageDefinition: (definition: PackageDefinition, server: grpc.Server) => {
        new ReflectionService({ ...healthPackageDefinition(), ...definition }).addToServer(server);
        health.addToServer(server);
      },
    });
    this.health = health;
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
