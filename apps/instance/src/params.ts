import { Transform } from 'class-transformer';

/**
 * A boolean as Rails reads one from JSON or a form: true, "true", "1", "on", "t" are true; false, "false",
 * "0", "off", "f" and "" are false. Anything else stays as it came and fails the property's `@IsBoolean`.
 */
export function RailsBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => railsBoolean(value));
}

/** `value` read as Rails reads a boolean; anything else is answered as it came. */
export function railsBoolean(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'on', 't'].includes(v)) return true;
    if (['false', '0', 'off', 'f', ''].includes(v)) return false;
  }
  return value;
}
