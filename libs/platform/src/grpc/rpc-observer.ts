import * as grpc from "@grpc/grpc-js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";

/** The fields of grpc-js's BaseServerInterceptingCall this observer reads (grpc-js >= 1.10). */
interface BaseCall {
  sendStatus(status: Parameters<grpc.ServerInterceptingCall["sendStatus"]>[0]): void;
  cancelled?: boolean;
  stream?: { destroyed: boolean; closed: boolean };
  handleDataFrame?: unknown;
}

/**
 * A grpc-js server interceptor that times every call from arrival to the status the client
 * received, labelled by full method path and status code. It must come first in the server's
 * interceptor list: grpc-js wraps the transport-level call with the first interceptor, and only
 * there are the statuses grpc-js sends itself visible (INTERNAL or RESOURCE_EXHAUSTED for
 * undecodable or oversized messages, DEADLINE_EXCEEDED when the deadline fires). Only the first
 * status sent on a live stream is recorded, as grpc-js drops later ones (a handler finishing
 * after its deadline); a stream closed before any status is CANCELLED.
 */
export function rpcObserver(metrics: ServiceMetrics): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = descriptor.path;
    const stopTimer = metrics.rpcLatency.startTimer({ method });
    metrics.rpcStarted.inc({ method });
    let finished = false;
    const finish = (code: grpc.status) => {
      if (finished) return;
      finished = true;
      stopTimer({ code: grpc.status[code] ?? String(code) });
    };
    const base = call as unknown as BaseCall;
    const atTransport = typeof base.handleDataFrame === "function" && base.stream !== undefined;
    if (atTransport) {
      const send = base.sendStatus.bind(base);
      base.sendStatus = (status) => {
        if (!base.cancelled && !base.stream!.destroyed && !base.stream!.closed) finish(status.code);
        send(status);
      };
    }
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(grpc.status.CANCELLED) }),
      sendStatus: (status, next) => {
        // Not first in the chain: the handler's status is the best this position can see.
        if (!atTransport) finish(status.code);
        next(status);
      },
    });
  };
}
