const maxDepth = 16;

/**
 * A JSON-safe copy of `value` for a log line, built without ever throwing: bigints become
 * decimal strings, errors `{name, message, stack, ...}` (their `cause` too), cycles
 * "[Circular]", typed arrays and buffers a short summary, Maps objects, Sets arrays; a getter
 * or `toJSON` that throws is replaced by a note saying so.
 */
export function toLoggable(value: unknown, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "function":
    case "symbol":
    case "undefined":
      return undefined;
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return "[Circular]";
  if (ancestors.length >= maxDepth) return "[Too deep]";
  ancestors.push(value);
  try {
    return objectToLoggable(value, ancestors);
  } catch (e) {
    return `[unreadable: ${describe(e)}]`;
  } finally {
    ancestors.pop();
  }
}

function objectToLoggable(value: object, ancestors: object[]): unknown {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `[${value.constructor.name} ${value.byteLength} bytes]`;
  }
  if (value instanceof Error) {
    const out = record();
    out["name"] = value.name;
    out["message"] = value.message;
    out["stack"] = value.stack;
    if (value.cause !== undefined) out["cause"] = toLoggable(value.cause, ancestors);
    for (const key of Object.keys(value)) out[key] = property(value, key, ancestors);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => toLoggable(v, ancestors) ?? null);
  if (value instanceof Map) {
    const out = record();
    for (const [k, v] of value) out[String(k)] = toLoggable(v, ancestors);
    return out;
  }
  if (value instanceof Set) return [...value].map((v) => toLoggable(v, ancestors) ?? null);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return toLoggable(toJSON.call(value), ancestors);
  const out = record();
  for (const key of Object.keys(value)) out[key] = property(value, key, ancestors);
  return out;
}

function property(obj: object, key: string, ancestors: object[]): unknown {
  try {
    return toLoggable((obj as Record<string, unknown>)[key], ancestors);
  } catch (e) {
    return `[unreadable: ${describe(e)}]`;
  }
}

function describe(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return "unprintable error";
  }
}

// Without a prototype, a key named "__proto__" is ordinary data.
const record = (): Record<string, unknown> => Object.create(null);
