import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { checkEmailAddress } from './email-address';
import { checkText, type TextRule } from './human-text';
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

/** A property that must pass a check function; the check's own problem is the message. */
function checked(
  name: string,
  problem: (value: unknown, property: string) => string | undefined,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => problem(value, String(propertyName)) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          problem(args?.value, String(propertyName)) ?? `${String(propertyName)} is invalid`,
      },
    });
}

/** Human-readable text under Townhall's text rule (`checkText`). */
export function HumanText(rule: TextRule, options?: ValidationOptions): PropertyDecorator {
  return checked('humanText', (value) => checkText(value, rule).problem, options);
}

/** An e-mail address under Townhall's e-mail rule (`checkEmailAddress`). */
export function EmailAddress(options?: ValidationOptions): PropertyDecorator {
  return checked('emailAddress', (value, property) => checkEmailAddress(value, property).problem, options);
}

/** A value a rule of some library checks: `problem` says what is wrong, or undefined. */
export function Checked(problem: (value: unknown) => string | undefined, options?: ValidationOptions) {
  return checked('checked', problem, options);
}
