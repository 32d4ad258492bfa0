import { toGrpcStatus } from "@exits/platform";
import { status } from "@grpc/grpc-js";
import type { JobErrorRecord } from "./job-types.js";

/**
 * What a run function's error becomes in `JobStatus.error`: the status the platform's one mapping
 * gives it (a `statusKind` as domain errors carry, or the code of a peer service's gRPC error,
 * which stays e.g. UNAVAILABLE instead of becoming INTERNAL), the error's own message (the job's
 * owner may see why it failed), and `field` when the error names one.
 */
export function jobErrorOf(error: unknown): JobErrorRecord {
  const mapped = toGrpcStatus(error);
  const code = status[mapped.code] ?? "INTERNAL";
  if (error instanceof Error) {
    const { field, details } = error as Error & { field?: unknown; details?: unknown };
    return {
      code,
      message: (typeof details === "string" && details) || error.message || error.name,
      field: typeof field === "string" ? field : "",
    };
  }
  return { code, message: String(error), field: "" };
}
