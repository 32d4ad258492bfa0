import type { JsonLogger } from "@exits/base";
import type { ArgumentsHost, RpcExceptionFilter } from "@nestjs/common";
import { RpcException } from "@nestjs/microservices";
import { type Observable, throwError } from "rxjs";
import { isServerFault, toGrpcStatus } from "../errors/grpc-status.js";

/**
 * Turns every error leaving a handler into a proper gRPC status through `toGrpcStatus`, so no
 * client ever sees UNKNOWN. Server faults are logged with their stack; client errors are not.
 */
export class GrpcStatusFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: JsonLogger) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const mapped = toGrpcStatus(exception instanceof RpcException ? exception.getError() : exception);
    if (isServerFault(mapped.code)) {
      const call = host.getArgByIndex(2) as { getPath?: () => string } | undefined;
      this.logger.error(exception instanceof Error ? exception : String(exception), { method: call?.getPath?.() });
    }
    return throwError(() => mapped);
  }
}
