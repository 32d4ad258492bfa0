import type { Options as ProtoLoaderOptions } from "@grpc/proto-loader";
import type { Type } from "@nestjs/common";

/** What the platform needs to know to run one gRPC service. */
export interface GrpcServiceSpec {
  /** Short name: `mask`, `similarity`, ... (used in logs, metrics and `exits serve <name>`). */
  readonly name: string;
  /** Port used when EXITS_GRPC_PORT is not set. */
  readonly defaultPort: number;
  /** The NestJS module holding the service's controller. */
  readonly module: Type<unknown>;
  readonly proto: {
    /** Directory the `.proto` imports are relative to. */
    readonly root: string;
    /** Files to load, relative to `root`. */
    readonly files: readonly string[];
    /** Protobuf package, e.g. `exits.v1`. */
    readonly packageName: string;
    /** Fully qualified service names, for health statuses (`exits.v1.MaskService`). */
    readonly services: readonly string[];
    /** `@grpc/proto-loader` options; `includeDirs` is always `[root]`. */
    readonly loaderOptions: ProtoLoaderOptions;
    /**
     * Binary FileDescriptorSet, as protoc writes it, of `files` and their imports: what
     * reflection serves and what requests are strictly checked against.
     */
    readonly descriptorSet: Uint8Array;
  };
}
