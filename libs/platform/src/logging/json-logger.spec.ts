import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JsonLogger } from "./json-logger.js";

function capture(level: "debug" | "info" | "warn" | "error" = "info") {
  const lines: string[] = [];
  return { logger: new JsonLogger("mask", level, (line) => lines.push(line)), lines };
}

describe("JsonLogger", () => {
  test("writes one JSON object per line with time, level, service, message and fields", () => {
    const { logger, lines } = capture();
    logger.info("service started", { grpcPort: 50055 });
    logger.warn("slow", "ServerGrpc");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!);
    assert.equal(first.level, "info");
    assert.equal(first.service, "mask");
    assert.equal(first.msg, "service started");
    assert.equal(first.grpcPort, 50055);
    assert.ok(!Number.isNaN(Date.parse(first.time)), first.time);
    assert.ok(!lines[0]!.includes("\n"));
    assert.deepEqual(
      { level: JSON.parse(lines[1]!).level, context: JSON.parse(lines[1]!).context },
      { level: "warn", context: "ServerGrpc" },
    );
  });

  test("drops records below the configured level", () => {
    const { logger, lines } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.log("nest info");
    logger.warn("w");
    logger.error("e");
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).msg),
      ["w", "e"],
    );
  });

  test("an error keeps its message and stack", () => {
    const { logger, lines } = capture();
    logger.error(new TypeError("boom"), { method: "/exits.v1.MaskService/PredictMasks" });
    const record = JSON.parse(lines[0]!);
    assert.equal(record.level, "error");
    assert.equal(record.msg, "boom");
    assert.match(record.stack, /TypeError: boom/);
    assert.equal(record.method, "/exits.v1.MaskService/PredictMasks");
  });

  test("never throws: bigints become strings, circular fields are dropped with a note", () => {
    const { logger, lines } = capture();
    logger.info("big", { bytes: 2n ** 70n });
    const circular: Record<string, unknown> = {};
    circular["self"] = circular;
    assert.doesNotThrow(() => logger.info("loop", { circular }));
    assert.equal(JSON.parse(lines[0]!).bytes, (2n ** 70n).toString());
    const second = JSON.parse(lines[1]!);
    assert.equal(second.msg, "loop");
    assert.match(second.logError, /not serialisable/);
  });
});
