import { registerDecorator, type ValidationOptions } from 'class-validator';
import { isId } from '@townhall/persistence';

/**
 * The shape of a Townhall id for OpenAPI documents. Only a description: `IsTownhallId` validates with
 * `isId`, which also bounds the value by the signed 64-bit maximum (the pattern alone allows 19 nines).
 */
export const TOWNHALL_ID_PATTERN = '^[1-9][0-9]{0,18}$';

/** A Townhall id (`isId`): what every id in a path, query or body of the control-plane APIs must be. */
export function IsTownhallId(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isTownhallId',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: { validate: (value: unknown) => isId(value) },
    });
}
