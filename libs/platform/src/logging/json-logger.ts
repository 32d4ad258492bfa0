import type { LoggerService } from "@nestjs/common";
import type { LogLevel } from "../config/service-config.js";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/**
 * Structured logs: one JSON object per line on stdout (`time`, `level`, `service`, `msg`, fields).
 * Also serves as NestJS's logger so framework messages share the format.
 */
export class JsonLogger implements LoggerService {
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
  info(message: unknown, fields?: LogFields): void {
    this.emit("info", message, fields ? [fields] : []);
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
    if (RANK[level] < RANK[this.level]) return;
    const record: LogFields = { time: new Date().toISOString(), level, service: this.service };
    if (message instanceof Error) {
      record.msg = message.message;
      record.stack = message.stack;
    } else {
      record.msg = typeof message === "string" ? message : JSON.stringify(message);
    }
    for (const item of rest) {
      if (item instanceof Error) record.stack = item.stack;
      else if (typeof item === "string") record.context = item;
      else if (item && typeof item === "object") Object.assign(record, item);
    }
    this.write(serialize(record));
  }
}

/**
 * A logger must never throw (it runs inside the status filter): bigints become strings, and a
 * record that still cannot be serialised (a circular field) is written without its fields.
 */
function serialize(record: LogFields): string {
  try {
    return JSON.stringify(record, (_key, value) => (typeof value === "bigint" ? value.toString() : value));
  } catch (error) {
    const { time, level, service, msg } = record;
    return JSON.stringify({
      time,
      level,
      service,
      msg,
      logError: `fields not serialisable: ${(error as Error).message}`,
    });
  }
}
