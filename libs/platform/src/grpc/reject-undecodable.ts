import type { JsonLogger } from "@exits/base";
import * as grpc from "@grpc/grpc-js";
import { InvalidArgumentError } from "../errors/domain-error.js";
import { toGrpcStatus } from "../errors/grpc-status.js";
import { UndecodableRequest } from "./strict-requests.js";

/**
 * A server interceptor that answers a request the strict deserializer refused with
 * INVALID_ARGUMENT (field and reason in the `exits-field` / `exits-reason` trailers) and a
 * warning in the log, so the handler never sees it.
 */
export function rejectUndecodable(logger: JsonLogger): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const guarded: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            if (!(message instanceof UndecodableRequest)) {
              nextMessage(message);
              return;
            }
            logger.warn("rejected a request that is not a valid protobuf", {
              method: descriptor.path,
              peer: call.getPeer(),
              requestType: message.requestType,
              field: message.field,
              reason: message.reason,
            });
            const mapped = toGrpcStatus(
              new InvalidArgumentError(message.field, `${message.reason} (not a valid ${message.requestType})`),
            );
            guarded.sendStatus({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
          },
        }),
    });
    return guarded;
  };
}
