import type { PackageDefinition } from "@grpc/proto-loader";
import type { DescriptorIndex } from "../reflection/descriptor-index.js";
import { checkWireFormat, WireFormatError } from "./wire-check.js";

/**
 * What a strict deserializer returns instead of throwing. grpc-js answers a throwing
 * deserializer with INTERNAL and logs nothing; handing this value on lets the
 * `rejectUndecodable` interceptor answer INVALID_ARGUMENT and log it instead.
 */
export class UndecodableRequest {
  constructor(
    readonly requestType: string,
    readonly field: string,
    readonly reason: string,
  ) {}
}

const STRICT = Symbol("exits.strictDeserializer");

type Deserialize = ((bytes: Buffer) => unknown) & { [STRICT]?: true };
interface MethodLike {
  path: string;
  requestDeserialize: Deserialize;
}

/**
 * Replaces every method's request deserializer in `definition` (in place, before grpc-js sees
 * it) by one that first checks the bytes against the method's input type as protoc compiled it.
 */
export function makeRequestsStrict(definition: PackageDefinition, index: DescriptorIndex): void {
  for (const entry of Object.values(definition)) {
    // Message and enum entries carry `format`; services are plain maps of method definitions.
    if ("format" in entry) continue;
    for (const method of Object.values(entry as Record<string, MethodLike>)) {
      if (method.requestDeserialize[STRICT]) continue;
      const described = index.method(method.path);
      const input = described && index.message(described.inputType);
      if (!input) throw new Error(`${method.path}: its request type is in no descriptor set the server holds`);
      const original = method.requestDeserialize;
      const strict: Deserialize = (bytes) => {
        try {
          checkWireFormat(bytes, input, index);
          return original(bytes);
        } catch (error) {
          return error instanceof WireFormatError
            ? new UndecodableRequest(input.fullName, error.field, error.reason)
            : new UndecodableRequest(input.fullName, "(request)", (error as Error).message);
        }
      };
      strict[STRICT] = true;
      method.requestDeserialize = strict;
    }
  }
}
