/** Structured fields attached to a log record; values must be JSON-serialisable. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging port of the runtime. Every component that can log takes one of these, so that a
 * service wires its own logger (pino, Nest) and tests capture records instead of parsing stderr.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Severity, lowest first; a logger drops records below its threshold. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One captured record, as kept by {@link MemoryLogger}. */
export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes one JSON object per line to stderr (the default when no logger is injected). */
export function jsonLinesLogger(
  minLevel: LogLevel = "info",
  write = (line: string) => process.stderr.write(line),
): Logger {
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (rank[level] < rank[minLevel]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, component: "runtime", message, ...fields })}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
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
