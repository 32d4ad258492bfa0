import { Metadata, status } from "@grpc/grpc-js";
import { DomainError, InvalidArgumentError, type StatusKind } from "./domain-error.js";

const CODE_OF_KIND: Record<StatusKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  unimplemented: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
};

/** The error object grpc-js sends to the client: `code`, `details` and trailing metadata. */
export interface GrpcStatusError {
  code: status;
  details: string;
  message: string;
  metadata: Metadata;
}

function statusKindOf(error: unknown): StatusKind | undefined {
  if (error instanceof DomainError) return error.statusKind;
  const kind = (error as { statusKind?: unknown } | null)?.statusKind;
  return typeof kind === "string" && kind in CODE_OF_KIND ? (kind as StatusKind) : undefined;
}

/**
 * The one mapping from thrown errors to gRPC statuses. Domain errors keep their message; an
 * error already carrying a numeric gRPC `code` passes through; anything else is a bug and
 * becomes INTERNAL with a generic message (never UNKNOWN), its details left to the log.
 * Invalid-argument errors also carry `exits-field` / `exits-reason` trailers for programs.
 */
export function toGrpcStatus(error: unknown): GrpcStatusError {
  const metadata = new Metadata();
  const kind = statusKindOf(error);
  if (kind !== undefined) {
    const message = (error as Error).message;
    const field = (error as Partial<InvalidArgumentError>).field;
    if (kind === "invalid_argument" && typeof field === "string") {
      metadata.set("exits-field", asciiHeaderValue(field));
      metadata.set("exits-reason", asciiHeaderValue(String((error as InvalidArgumentError).reason ?? message)));
    }
    return { code: CODE_OF_KIND[kind], details: message, message, metadata };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number" && code > 0 && code <= 16 && code !== status.UNKNOWN) {
    const details = String((error as { details?: unknown }).details ?? (error as Error).message ?? "");
    return { code, details, message: details, metadata };
  }
  const message = "internal error; the server log has the details";
  return { code: status.INTERNAL, details: message, message, metadata };
}

/**
 * gRPC ASCII metadata allows printable ASCII only (grpc-js throws on anything else, which would
 * turn a clear INVALID_ARGUMENT into a failed call): other characters are percent-encoded as
 * UTF-8, so "τ_FG ≥ 0" arrives as "%CF%84_FG %E2%89%A5 0" and decodes with decodeURIComponent.
 */
export function asciiHeaderValue(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** Whether the mapped status reflects a server fault worth logging at error level. */
export function isServerFault(code: status): boolean {
  return code === status.INTERNAL || code === status.DATA_LOSS || code === status.UNKNOWN;
}
