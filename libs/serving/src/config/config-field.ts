import { type MethodConfig, MethodConfigError, type MethodConfigOverrides, resolveMethodConfig } from "@exits/exits";
import { InvalidArgumentError } from "@exits/platform";

/** `prefix` + `name` as a proto field path: "" + "alpha" → "alpha", "config" + "alpha" → "config.alpha". */
export function fieldPath(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

/**
 * `resolveMethodConfig(overrides, base)` with the method's own range checks, its errors renamed
 * to the wire field they came from (`wireNames` maps "retrieval.alpha" → "config.alpha"), so a
 * client reads the name of the field it sent, never an internal one.
 */
export function resolveOnto(
  base: MethodConfig,
  overrides: MethodConfigOverrides,
  wireNames: Readonly<Record<string, string>>,
): MethodConfig {
  try {
    return resolveMethodConfig(overrides, base);
  } catch (error) {
    if (!(error instanceof MethodConfigError)) throw error;
    const wire = wireNames[error.field];
    throw new InvalidArgumentError(wire ?? error.field, error.reason);
  }
}

/** Checks for one optional wire number; each failure is INVALID_ARGUMENT naming `field`. */
export const check = {
  finite(field: string, v: number): void {
    if (!Number.isFinite(v)) throw new InvalidArgumentError(field, `must be a finite number, got ${v}`);
  },
  range(field: string, v: number, min: number, max: number, open: { min?: boolean; max?: boolean } = {}): void {
    check.finite(field, v);
    if (v < min || v > max || (open.min && v === min) || (open.max && v === max))
      throw new InvalidArgumentError(
        field,
        `must be in ${open.min ? "(" : "["}${min}, ${max}${open.max ? ")" : "]"}, got ${v}`,
      );
  },
  integer(field: string, v: number, min: number, max: number): void {
    if (!Number.isInteger(v) || v < min || v > max)
      throw new InvalidArgumentError(field, `must be an integer in [${min}, ${max}], got ${v}`);
  },
  /** A setting the proto has but the method implements only at one value. */
  only(field: string, v: number, supported: number, what = String(supported)): void {
    if (Math.abs(v - supported) > Math.abs(supported) * 1e-6)
      throw new InvalidArgumentError(field, `only ${what} is supported, got ${v}`);
  },
};

/** proto-loader hands unset message fields over as null; ts-proto types say undefined. */
export function present<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}
