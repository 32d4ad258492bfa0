import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { DomainError, InvalidArgumentError, NotFoundError, STATUS_KINDS, type StatusKind } from "./domain-error.js";
import { isServerFault, toGrpcStatus } from "./grpc-status.js";

/** Written out by hand from the gRPC status code list, not derived from the code under test. */
const EXPECTED_STATUS: Record<StatusKind, keyof typeof status> = {
  invalid_argument: "INVALID_ARGUMENT",
  not_found: "NOT_FOUND",
  already_exists: "ALREADY_EXISTS",
  failed_precondition: "FAILED_PRECONDITION",
  resource_exhausted: "RESOURCE_EXHAUSTED",
  unavailable: "UNAVAILABLE",
  deadline_exceeded: "DEADLINE_EXCEEDED",
  cancelled: "CANCELLED",
  unimplemented: "UNIMPLEMENTED",
  internal: "INTERNAL",
};

describe("toGrpcStatus", () => {
  test("every error kind maps to its own status, as a DomainError and as a foreign statusKind", () => {
    assert.deepEqual(Object.keys(EXPECTED_STATUS).sort(), [...STATUS_KINDS].sort());
    for (const kind of STATUS_KINDS) {
      const domain = toGrpcStatus(new DomainError(kind, `a ${kind} failure`));
      assert.equal(status[domain.code], EXPECTED_STATUS[kind], kind);
      assert.equal(domain.details, `a ${kind} failure`);
      const foreign = toGrpcStatus(Object.assign(new Error(`foreign ${kind}`), { statusKind: kind }));
      assert.equal(status[foreign.code], EXPECTED_STATUS[kind], `foreign ${kind}`);
    }
  });

  test("a domain error keeps its kind and message; invalid arguments carry field and reason trailers", () => {
    const mapped = toGrpcStatus(
      new InvalidArgumentError("images[0].objects[2].extreme_points.top", "outside the image"),
    );
    assert.equal(mapped.code, status.INVALID_ARGUMENT);
    assert.equal(mapped.details, "images[0].objects[2].extreme_points.top: outside the image");
    assert.deepEqual(mapped.metadata.get("exits-field"), ["images[0].objects[2].extreme_points.top"]);
    assert.deepEqual(mapped.metadata.get("exits-reason"), ["outside the image"]);
    assert.equal(toGrpcStatus(new NotFoundError("job j1")).code, status.NOT_FOUND);
  });

  test("an error from a library that cannot import the platform maps by its statusKind", () => {
    const error = Object.assign(new Error("queue is full"), { statusKind: "resource_exhausted" });
    assert.deepEqual(
      { code: toGrpcStatus(error).code, details: toGrpcStatus(error).details },
      { code: status.RESOURCE_EXHAUSTED, details: "queue is full" },
    );
    const unknownKind = Object.assign(new Error("secret"), { statusKind: "teapot" });
    assert.equal(toGrpcStatus(unknownKind).code, status.INTERNAL);
  });

  test("an error already carrying a gRPC code passes through, except UNKNOWN and OK", () => {
    assert.equal(toGrpcStatus({ code: status.UNAVAILABLE, details: "model loading" }).code, status.UNAVAILABLE);
    assert.equal(toGrpcStatus({ code: status.UNAVAILABLE, details: "model loading" }).details, "model loading");
    assert.equal(toGrpcStatus({ code: status.UNKNOWN, details: "?" }).code, status.INTERNAL);
    assert.equal(toGrpcStatus({ code: status.OK }).code, status.INTERNAL);
    assert.equal(toGrpcStatus(Object.assign(new Error("no file"), { code: "ENOENT" })).code, status.INTERNAL);
  });

  test("anything else is INTERNAL with a generic message, never UNKNOWN and never the raw text", () => {
    for (const thrown of [new TypeError("x is undefined at secret/path.ts"), "a string", undefined, null, 42]) {
      const mapped = toGrpcStatus(thrown);
      assert.equal(mapped.code, status.INTERNAL, String(thrown));
      assert.doesNotMatch(mapped.details, /secret/);
      assert.ok(isServerFault(mapped.code));
    }
    assert.equal(isServerFault(status.INVALID_ARGUMENT), false);
  });

  test("non-ASCII in a field or reason travels percent-encoded in the trailers, the details unchanged", () => {
    const mapped = toGrpcStatus(new InvalidArgumentError("config.tau_bg", "must be < τ_FG (100% sure)"));
    assert.equal(mapped.details, "config.tau_bg: must be < τ_FG (100% sure)");
    const reason = String(mapped.metadata.get("exits-reason")[0]);
    assert.match(reason, /^[\x20-\x7e]*$/);
    assert.equal(decodeURIComponent(reason), "must be < τ_FG (100% sure)");
  });
});
