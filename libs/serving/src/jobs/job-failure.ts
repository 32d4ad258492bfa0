import type { JobErrorRecord } from "./job-types.js";

const STATUS_KINDS = new Set([
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
]);

/**
 * What a run function's error becomes in `JobStatus.error`. Recognised structurally (a
 * `statusKind` property, as the platform maps errors) so libraries' own errors that carry one
 * map alike; `field` is taken when the error names one. Anything else is INTERNAL.
 */
export function jobErrorOf(error: unknown): JobErrorRecord {
  if (error instanceof Error) {
    const { statusKind, field } = error as Error & { statusKind?: unknown; field?: unknown };
    const known = typeof statusKind === "string" && STATUS_KINDS.has(statusKind);
    return {
      code: known ? statusKind.toUpperCase() : "INTERNAL",
      message: error.message || error.name,
      field: typeof field === "string" ? field : "",
    };
  }
  return { code: "INTERNAL", message: String(error), field: "" };
}
