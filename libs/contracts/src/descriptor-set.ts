import { DESCRIPTOR_SET_BASE64 } from "./generated/descriptor-set.js";

/**
 * The binary `google.protobuf.FileDescriptorSet` of every exits.v1 file and
 * `grpc/health/v1/health.proto`, exactly as protoc wrote it (comments included): what server
 * reflection serves, so clients see the real file names, field names, json_name,
 * proto3_optional, map entries and imports.
 */
export function contractsDescriptorSet(): Uint8Array {
  return new Uint8Array(Buffer.from(DESCRIPTOR_SET_BASE64, "base64"));
}
