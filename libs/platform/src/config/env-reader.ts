import { ConfigError } from "./config-error.js";

/**
 * Reads typed values from an environment map. Each getter validates once and throws a
 * `ConfigError` naming the variable, so a bad value stops startup instead of surfacing later.
 */
export class EnvReader {
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    return raw === undefined || raw === "" ? fallback : raw;
  }

  integer(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got "${raw}"`);
    const value = Number(raw);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
    if (value < min || value > max) throw new ConfigError(name, `${value} is outside [${min}, ${max}]`);
    return value;
  }

  /**
   * A TCP port, 0 for any free one. Set but empty is an error rather than the default: an
   * empty port is a templating slip (`EXITS_GRPC_PORT=${PORT}` with PORT unset), not a choice.
   */
  port(name: string, fallback: number): number {
    if (this.env[name] !== undefined && this.env[name]!.trim() === "") {
      throw new ConfigError(name, `set but empty; unset it for the default (${fallback}) or give a port`);
    }
    return this.integer(name, fallback, { min: 0, max: 65535 });
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `"${raw}" is not one of ${allowed.join(", ")}`);
    }
    return raw as T;
  }

  host(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (/\s|\//.test(value)) throw new ConfigError(name, `"${value}" is not a host name or address`);
    return value;
  }
}
