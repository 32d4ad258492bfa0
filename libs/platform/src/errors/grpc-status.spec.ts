import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { InvalidArgumentError, NotFoundError } from "./domain-error.js";
import { isServerFault, toGrpcStatus } from "./grpc-status.js";

describe("toGrpcStatus", () => {
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
});
