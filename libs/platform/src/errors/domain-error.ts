/**
 * The kinds of failure the platform distinguishes. Each maps to exactly one gRPC status code
 * (see `grpc-status.ts`). Libraries that must not depend on the platform can still be mapped:
 * any error carrying a `statusKind` property with one of these values is treated alike.
 */
export const STATUS_KINDS = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "failed_precondition",
  "resource_exhausted",
  "unavailable",
  "deadline_exceeded",
  "cancelled",
  "unimplemented",
  "internal",
] as const;
export type StatusKind = (typeof STATUS_KINDS)[number];

/** A failure the caller can act on, with a message safe to show them. */
export class DomainError extends Error {
  constructor(
    readonly statusKind: StatusKind,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: `field` is the request field at fault (dotted path), `reason` says why. */
export class InvalidArgumentError extends DomainError {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super("invalid_argument", `${field}: ${reason}`);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super("not_found", `${what} not found`);
  }
}

/** A queue or quota is full; the caller may retry later. */
export class ResourceExhaustedError extends DomainError {
  constructor(message: string) {
    super("resource_exhausted", message);
  }
}

/** Temporarily unable to serve, e.g. while a model loads or during shutdown. */
export class UnavailableError extends DomainError {
  constructor(message: string) {
    super("unavailable", message);
  }
}

export class DeadlineExceededError extends DomainError {
  constructor(message: string) {
    super("deadline_exceeded", message);
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(message: string) {
    super("failed_precondition", message);
  }
}

/** An RPC whose contract exists but whose implementation has not landed yet. */
export class UnimplementedError extends DomainError {
  constructor(method: string, plannedWith: string) {
    super("unimplemented", `${method} is not implemented yet; it arrives with ${plannedWith}`);
  }
}
