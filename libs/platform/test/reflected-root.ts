import { createRequire } from "node:module";
import type * as protobuf from "protobufjs";

const require = createRequire(import.meta.url);
// protobufjs's descriptor extension adds Root.fromDescriptor; it is CommonJS only.
const protobufjs = require("protobufjs") as typeof protobuf;
const descriptor = require("protobufjs/ext/descriptor") as { FileDescriptorSet: protobuf.Type };

/**
 * A protobufjs Root built only from FileDescriptorProtos fetched over reflection, as a generic
 * client (grpcurl, grpcui, Postman) builds its requests: nothing from the .proto files.
 */
export function rootFromReflection(files: readonly Uint8Array[]): protobuf.Root {
  const set = descriptor.FileDescriptorSet.encode({
    file: files.map((bytes) => descriptor.FileDescriptorSet.lookupType("FileDescriptorProto").decode(bytes)),
  }).finish();
  return (protobufjs.Root as unknown as { fromDescriptor(bytes: Uint8Array): protobuf.Root }).fromDescriptor(set);
}
