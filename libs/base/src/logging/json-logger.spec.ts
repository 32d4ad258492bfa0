import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fuzzRuns } from "../testing/fuzz-runs.js";
import { JsonLogger, jsonLinesLogger } from "./json-logger.js";
import type { LogLevel } from "./logger.js";

function capture(level: LogLevel = "info") {
  const lines: string[] = [];
  return { logger: new JsonLogger("mask", level, (line) => lines.push(line)), lines };
}

describe("JsonLogger", () => {
  test("one JSON object per line: time, level, service, msg, context and fields", () => {
    const { logger, lines } = capture();
    logger.info("service started", { grpcPort: 50055 });
    logger.warn("slow", "ServerGrpc");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(first), ["time", "level", "service", "msg", "grpcPort"]);
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
    logger.fatal("f");
    assert.deepEqual(
      lines.map((line) => [JSON.parse(line).msg, JSON.parse(line).level]),
      [
        ["w", "warn"],
        ["e", "error"],
        ["f", "error"],
      ],
    );
  });

  test("an error keeps its message and stack; NestJS's error(message, stack, context) too", () => {
    const { logger, lines } = capture();
    logger.error(new TypeError("boom"), { method: "/exits.v1.MaskService/PredictMasks" });
    const trace = new Error("inner").stack!;
    logger.error("handler failed", trace, "ExceptionsHandler");
    const record = JSON.parse(lines[0]!);
    assert.equal(record.level, "error");
    assert.equal(record.msg, "boom");
    assert.match(record.stack, /TypeError: boom/);
    assert.equal(record.method, "/exits.v1.MaskService/PredictMasks");
    const nest = JSON.parse(lines[1]!);
    assert.deepEqual([nest.msg, nest.stack, nest.context], ["handler failed", trace, "ExceptionsHandler"]);
  });

  test("never throws: bigints, cycles, errors, throwing getters and toJSON, a failing stream", () => {
    const { logger, lines } = capture();
    const circular: Record<string, unknown> = { name: "loop" };
    circular["self"] = circular;
    const shared = { n: 1 };
    const cause = new RangeError("root cause");
    const hostile = {
      get boom(): unknown {
        throw new Error("getter exploded");
      },
      bigJson: { toJSON: () => 2n },
      bad: {
        toJSON() {
          throw new Error("toJSON exploded");
        },
      },
    };
    logger.info("big", { bytes: 2n ** 70n });
    logger.info("loop", { circular, pair: [shared, shared] });
    logger.info("failed", { error: new Error("outer", { cause }) });
    logger.info("hostile", hostile);
    logger.info(2n ** 64n);
    const angry = new JsonLogger("x", "info", () => {
      throw new Error("EPIPE");
    });
    assert.doesNotThrow(() => angry.error("nobody listens"));
    const [big, loop, failed, bad, bigMessage] = lines.map((l) => JSON.parse(l));
    assert.equal(big.bytes, (2n ** 70n).toString());
    assert.deepEqual(loop.circular, { name: "loop", self: "[Circular]" });
    assert.deepEqual(loop.pair, [{ n: 1 }, { n: 1 }], "a shared object is not a cycle");
    assert.equal(failed.error.message, "outer");
    assert.equal(failed.error.cause.name, "RangeError");
    assert.match(failed.error.stack, /Error: outer/);
    assert.equal(bad.boom, "[unreadable: getter exploded]");
    assert.equal(bad.bigJson, "2");
    assert.equal(bad.bad, "[unreadable: toJSON exploded]");
    assert.equal(bigMessage.msg, "18446744073709551616");
  });

  test("fields cannot overwrite the record's own keys", () => {
    const { logger, lines } = capture();
    logger.warn("real", { level: "debug", msg: "fake", time: 0, user: "u", ["__proto__"]: { polluted: true } });
    const r = JSON.parse(lines[0]!);
    assert.deepEqual(
      [r.level, r.msg, r["field.level"], r["field.msg"], r["field.time"]],
      ["warn", "real", "debug", "fake", 0],
    );
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });

  test("fuzz: any message and fields give exactly one parseable line", (t) => {
    const runs = fuzzRuns(300);
    const { logger, lines } = capture("debug");
    let cases = 0;
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }),
        fc.anything(),
        (m, f) => {
          cases++;
          const before = lines.length;
          logger.info(m, f);
          logger.error(f as string, m);
          assert.equal(lines.length, before + 2);
          for (const l of lines.slice(before)) assert.equal(typeof JSON.parse(l).msg, "string");
        },
      ),
      { numRuns: runs },
    );
    t.diagnostic(`json logger: ${cases} cases, none threw`);
  });

  test("jsonLinesLogger is the same logger: newline-terminated records, bigints and cycles kept", () => {
    const out: string[] = [];
    const logger = jsonLinesLogger("warn", (chunk) => out.push(chunk));
    const loop: Record<string, unknown> = {};
    loop["self"] = loop;
    logger.info("dropped");
    logger.warn("kept", { step: 3n, loop });
    assert.equal(out.length, 1);
    assert.ok(out[0]!.endsWith("}\n"));
    const r = JSON.parse(out[0]!);
    assert.deepEqual(
      [r.level, r.service, r.msg, r.step, r.loop],
      ["warn", "runtime", "kept", "3", { self: "[Circular]" }],
    );
  });
});
