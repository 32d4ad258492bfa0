import {
  contractsDescriptorSet,
  PROTO_LOADER_OPTIONS,
  PROTO_PACKAGE,
  PROTO_ROOT,
  SERVICE_PROTOS,
  type ServiceShortName,
} from "@exits/contracts";
import type { Type } from "@nestjs/common";
import type { GrpcServiceSpec } from "./service-spec.js";

/** Default gRPC ports, in pipeline order; `/metrics` defaults to the gRPC port + 1000. */
export const DEFAULT_GRPC_PORTS: Readonly<Record<ServiceShortName, number>> = {
  similarity: 50051,
  retrieval: 50052,
  trainer: 50053,
  crf: 50054,
  mask: 50055,
  exporter: 50056,
};

/** The spec of one of the six exits.v1 services, loaded from the committed contracts. */
export function contractServiceSpec(name: ServiceShortName, module: Type<unknown>): GrpcServiceSpec {
  const { protoFile, fullName } = SERVICE_PROTOS[name];
  return {
    name,
    defaultPort: DEFAULT_GRPC_PORTS[name],
    module,
    proto: {
      root: PROTO_ROOT,
      files: [protoFile],
      packageName: PROTO_PACKAGE,
      services: [fullName],
      loaderOptions: PROTO_LOADER_OPTIONS,
      descriptorSet: contractsDescriptorSet(),
    },
  };
}
