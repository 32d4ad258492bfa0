import type { LogFields, Logger, LogLevel } from "./logger.js";
import { toLoggable } from "./safe-json.js";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const reserved = new Set(["time", "level", "service", "msg", "context", "stack"]);

/**
 * The one JSON logger: one object per line, `{time, level, service, msg, context?, stack?,
 * ...fields}`, on stdout by default. It is a {@link Logger} and also has the methods NestJS
 * calls (`log`, `verbose`, `fatal`, `error(message, stack, context)`), so framework messages
 * share the format. It never throws, whatever it is given (bigints, cycles, errors, throwing
 * getters, a failing stream): a logger runs inside error handlers. A field named like one of
 * the record's own keys is kept as `field.<name>` instead of overwriting it.
 */
export class JsonLogger implements Logger {
  constructor(
    private readonly service: string,
    private readonly level: LogLevel = "info",
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  debug(message: unknown, ...rest: unknown[]): void {
    this.emit("debug", message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.emit("debug", message, rest);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.emit("info", message, rest);
  }
  info(message: unknown, ...rest: unknown[]): void {
    this.emit("info", message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.emit("warn", message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.emit("error", message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.emit("error", message, rest);
  }

  private emit(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (rank[level] < rank[this.level]) return;
    let line: string;
    try {
      line = JSON.stringify(this.record(level, message, rest));
    } catch (e) {
      line = JSON.stringify({ time: new Date().toISOString(), level, service: this.service, logError: String(e) });
    }
    try {
      this.write(line);
    } catch {
      // Nowhere left to report it.
    }
  }

  private record(level: LogLevel, message: unknown, rest: unknown[]): Record<string, unknown> {
    const record: Record<string, unknown> = Object.create(null);
    record["time"] = new Date().toISOString();
    record["level"] = level;
    record["service"] = this.service;
    if (message instanceof Error) {
      record["msg"] = message.message;
      record["stack"] = message.stack;
    } else {
      const m = toLoggable(message);
      record["msg"] = typeof m === "string" ? m : JSON.stringify(m ?? null);
    }
    for (const item of rest) {
      if (item instanceof Error) record["stack"] = item.stack;
      // NestJS passes a stack trace as a string before the context.
      else if (typeof item === "string") record[/\n\s+at /.test(item) ? "stack" : "context"] = item;
      else if (item !== null && typeof item === "object") this.addFields(record, item as LogFields);
    }
    return record;
  }

  private addFields(record: Record<string, unknown>, fields: LogFields): void {
    const plain = toLoggable(fields);
    if (plain === null || typeof plain !== "object" || Array.isArray(plain)) return;
    for (const [key, value] of Object.entries(plain)) record[reserved.has(key) ? `field.${key}` : key] = value;
  }
}

/**
 * The JSON logger as libraries default to it: records of `component` (default "runtime") on
 * stderr, so that a CLI's stdout stays its own output.
 */
export function jsonLinesLogger(
  minLevel: LogLevel = "info",
  write: (line: string) => void = (line) => process.stderr.write(line),
  component = "runtime",
): Logger {
  return new JsonLogger(component, minLevel, (line) => write(`${line}\n`));
}
