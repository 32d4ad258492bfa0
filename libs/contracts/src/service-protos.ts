/** Where one exits.v1 service is declared, for loading it at run time with @grpc/proto-loader. */
export interface ServiceProto {
  /** Path relative to PROTO_ROOT, e.g. "exits/v1/similarity.proto". */
  readonly protoFile: string;
  /** Service name inside the package, e.g. "SimilarityService" (NestJS `GrpcMethod` uses it). */
  readonly serviceName: string;
  /** Fully qualified name, e.g. "exits.v1.SimilarityService" (health checks, reflection). */
  readonly fullName: string;
}

/** The proto package every service lives in (NestJS gRPC transport option `package`). */
export const PROTO_PACKAGE = "exits.v1";

/** The six services' short names, as used by `exits serve <name>` and the services/ folders. */
export type ServiceShortName = "similarity" | "retrieval" | "trainer" | "crf" | "mask" | "exporter";

function entry(file: string, serviceName: string): ServiceProto {
  return { protoFile: `exits/v1/${file}.proto`, serviceName, fullName: `${PROTO_PACKAGE}.${serviceName}` };
}

export const SERVICE_PROTOS: Readonly<Record<ServiceShortName, ServiceProto>> = {
  similarity: entry("similarity", "SimilarityService"),
  retrieval: entry("retrieval", "RetrievalService"),
  trainer: entry("trainer", "TrainerService"),
  crf: entry("crf", "CrfService"),
  mask: entry("mask", "MaskService"),
  exporter: entry("exporter", "ExporterService"),
};
