import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, type ValidationOptions } from 'class-validator';
import { parseStrictInteger } from './strict-integer';

// The request-shape form of Townhall's input rules: each decorator applies the same function the use
// cases and the CLI call, so the API, the command line and workers accept exactly the same input.

/**
 * A DTO property read with `parseStrictInteger`. Anything else stays as it came (a string, an array
 * for a repeated parameter) and fails the integer check, so an empty value is an error, not "absent".
 * Add `@Min`/`@Max` for the range; put `@IsOptional()` above it when the parameter may be left out.
 */
export function StrictInteger(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? (parseStrictInteger(value) ?? value) : value,
    ),
    IsInt({ message: ({ property }) => `${property} must be a whole number in decimal digits`, ...options }),
  );
}
