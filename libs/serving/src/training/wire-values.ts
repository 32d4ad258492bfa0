import { InvalidArgumentError } from "@exits/platform";

/**
 * Small readers for proto3 `optional` scalars: unset means "the default", a set value is checked
 * here (range, or "only the implemented value") so an error names the wire field, never a
 * MethodConfig key the client cannot see.
 */

/** A setting the method implements one way only: unset or that value, else INVALID_ARGUMENT. */
export function onlyValue<T>(field: string, value: T | undefined, implemented: T, describe?: string): T {
  if (value !== undefined && value !== implemented)
    throw new InvalidArgumentError(field, `only ${describe ?? String(implemented)} is supported, got ${String(value)}`);
  return implemented;
}

/** A number in [min, max] (or (min, max] / [min, max) with the open flags), default when unset. */
export function numberIn(
  field: string,
  value: number | undefined,
  fallback: number,
  range: { min: number; max: number; openMin?: boolean; openMax?: boolean },
): number {
  const v = value ?? fallback;
  const { min, max, openMin = false, openMax = false } = range;
  if (!Number.isFinite(v) || v < min || v > max || (openMin && v === min) || (openMax && v === max))
    throw new InvalidArgumentError(
      field,
      `must be a number in ${openMin ? "(" : "["}${min}, ${max}${openMax ? ")" : "]"}, got ${v}`,
    );
  return v;
}

/** An integer in [min, max], default when unset. */
export function integerIn(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new InvalidArgumentError(field, `must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

/** Joins a prefix and a field name into a proto path ("spec.extractor.config" + "crop.crop_size"). */
export function fieldPath(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}
