import * as grpc from "@grpc/grpc-js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";

/**
 * A grpc-js server interceptor that times every call from arrival to the status actually sent
 * (streams included) into the latency histogram, labelled by full method path and status code.
 * Sitting below NestJS, it also sees calls that fail before reaching a handler.
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
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(grpc.status.CANCELLED) }),
      sendStatus: (status, next) => {
        finish(status.code);
        next(status);
      },
    });
  };
}
