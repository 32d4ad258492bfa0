import { ApiException } from "@kubernetes/client-node";

/** The parts of a Kubernetes `Status` (kind Status, apiVersion v1) an error path needs. */
export interface KubeStatus {
  readonly code: number;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * The Status behind an API call's error: client-node 1.x throws ApiException with the HTTP code
 * and the response body as text (a JSON Status for API errors), or the watch's Error with
 * `statusCode`. Undefined for errors that are not HTTP answers (connection refused, ...).
 */
export function kubeStatusOf(error: unknown): KubeStatus | undefined {
  if (error instanceof ApiException) {
    const body = parseBody(error.body);
    return { code: error.code, reason: body?.reason, message: body?.message };
  }
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? { code } : undefined;
}

function parseBody(body: unknown): { reason?: string; message?: string } | undefined {
  if (typeof body === "object" && body !== null) return body as { reason?: string; message?: string };
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return { message: body };
  }
}

export const isNotFound = (e: unknown) => kubeStatusOf(e)?.code === 404;
export const isAlreadyExists = (e: unknown) => {
  const s = kubeStatusOf(e);
  return s?.code === 409 && (s.reason === undefined || s.reason === "AlreadyExists");
};
/** 410 Gone: the resourceVersion is older than the server keeps (reason Expired or Gone). */
export const isGone = (e: unknown) => kubeStatusOf(e)?.code === 410;
