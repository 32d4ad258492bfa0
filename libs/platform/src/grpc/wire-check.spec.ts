import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { contractsDescriptorSet } from "@exits/contracts";
import { DescriptorIndex } from "../reflection/descriptor-index.js";
import { checkWireFormat, WireFormatError } from "./wire-check.js";

const index = new DescriptorIndex([contractsDescriptorSet()]);

function check(type: string, bytes: number[]): void {
  checkWireFormat(Uint8Array.from(bytes), index.message(type)!, index);
}

function rejects(type: string, bytes: number[], field: string, reason: RegExp): void {
  assert.throws(
    () => check(type, bytes),
    (error: unknown) => error instanceof WireFormatError && error.field === field && reason.test(error.reason),
    `${type} ${JSON.stringify(bytes)}`,
  );
}

const text = (s: string) => [...Buffer.from(s)];

describe("checkWireFormat", () => {
  test("accepts well-formed requests: strings, unknown fields, packed and unpacked repeats, maps", () => {
    check("exits.v1.GetJobRequest", [0x0a, 2, ...text("j1")]);
    check("exits.v1.GetJobRequest", []);
    // An unknown field (9, varint) is skipped as proto3 requires.
    check("exits.v1.GetJobRequest", [0x48, 0x96, 0x01, 0x0a, 1, 0x41]);
    // ListJobsRequest.label_selector (4) is a map<string, string>: entries are nested messages.
    check("exits.v1.ListJobsRequest", [0x22, 6, 0x0a, 1, 0x6b, 0x12, 1, 0x76]);
    check("exits.v1.CropConfig", [0x08, 0xe0, 0x01]);
    // ListJobsRequest.states (3) is a repeated enum: packed (one LEN record) or one varint each.
    check("exits.v1.ListJobsRequest", [0x1a, 2, 1, 2, 0x18, 3]);
    assert.throws(() => check("exits.v1.ListJobsRequest", [0x1a, 2, 0x80, 0x80]), /truncated varint/);
  });

  test("wire type 7 or 6, or a group, is rejected with the field", () => {
    rejects("exits.v1.GetJobRequest", [0x0f, 0], "job_id", /invalid wire type 7/);
    rejects("exits.v1.GetJobRequest", [0x4e], "#9", /invalid wire type 6/);
    rejects("exits.v1.GetJobRequest", [0x0b, 0x0c], "job_id", /invalid wire type 3/);
  });

  test("a length prefix larger than what remains (here 4 GiB) is rejected", () => {
    rejects("exits.v1.GetJobRequest", [0x0a, 0x80, 0x80, 0x80, 0x80, 0x10, 0x41], "job_id", /claims 4294967296 bytes/);
    rejects("exits.v1.GetJobRequest", [0x0a, 5, 0x41], "job_id", /claims 5 bytes, but only 1 remain/);
    rejects("exits.v1.GetJobRequest", [0x4a, 0x80, 0x80, 0x80, 0x80, 0x10], "#9", /claims 4294967296/);
  });

  test("invalid UTF-8 in a string field is rejected, also inside a map entry", () => {
    rejects("exits.v1.GetJobRequest", [0x0a, 2, 0xc3, 0x28], "job_id", /not valid UTF-8/);
    rejects("exits.v1.ListJobsRequest", [0x22, 6, 0x0a, 1, 0x6b, 0x12, 1, 0xff], "label_selector[0].value", /UTF-8/);
  });

  test("a known field on the wrong wire type, a truncated varint, field number 0 are rejected", () => {
    rejects("exits.v1.GetJobRequest", [0x08, 0x01], "job_id", /wire type 0, but a string field uses 2/);
    rejects("exits.v1.CropConfig", [0x08, 0x80], "crop_size", /truncated varint/);
    rejects("exits.v1.GetJobRequest", [0x02, 0], "#0", /field number 0/);
    rejects("exits.v1.GetJobRequest", [0x49, 1, 2, 3], "#9", /fixed64 of 8 bytes, but only 3 remain/);
  });
});
