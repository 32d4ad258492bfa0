/** Severities, lowest first; a logger drops records below its threshold. */
export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

/** Structured fields of a record. Anything goes: loggers never throw on what they are given. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging port. Every component that can log takes one of these, so that a process wires
 * its own ({@link JsonLogger} in services and the CLI) and tests capture records instead of
 * parsing output.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** One captured record, as kept by {@link MemoryLogger}. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps records in memory; for tests and for callers that forward them elsewhere. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[] = [];
  debug(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "debug", message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "info", message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "warn", message, fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "error", message, fields });
  }
}

/** Drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
