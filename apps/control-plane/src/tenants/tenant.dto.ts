import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidationOptions,
} from 'class-validator';
import { StrictInteger } from '@townhall/core';
import {
  DEFAULT_DELETION_GRACE_SECONDS,
  MAX_DELETION_GRACE_SECONDS,
  MIN_DELETION_GRACE_SECONDS,
  SLUG_PATTERN,
} from '@townhall/provisioning';
import { canonicalHost, TENANT_STATUSES, TenantStatus } from '@townhall/tenancy';
import { IsTownhallId, TOWNHALL_ID_PATTERN } from '../shared/townhall-id';

/**
 * Request shapes of the operator API. They give precise 400s at the edge; the use cases validate their
 * commands again, so the CLI and workers get the same rules.
 */

/** A DNS host name as tenants use them: no port, no IP literal; case and a trailing dot are allowed. */
function IsHostName(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isHostName',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || value.includes(':')) return false;
          const host = canonicalHost(value);
          return host !== undefined && (host.includes('.') || host === 'localhost');
        },
        defaultMessage: () => `${String(propertyName)} must be a host name such as social.agency.example`,
      },
    });
}

export class CreateTenantDto {
  @ApiProperty({
    description: 'Short stable name, unique among live tenants',
    pattern: SLUG_PATTERN.source,
    example: 'bmi',
  })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'slug must be 3 to 40 lower-case letters, digits or hyphens' })
  slug: string;

  @ApiProperty({
    description: 'The instance’s host name; compared case-insensitively, without a trailing dot',
    example: 'social.bmi.example',
    maxLength: 254,
  })
  @IsString()
  @MaxLength(254)
  @IsHostName()
  domain: string;

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Federal Ministry of the Interior' })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'displayName must not be blank' })
  displayName: string;

  @ApiProperty({
    format: 'email',
    description: 'Becomes the owner account of the instance',
    example: 'press@bmi.example',
    maxLength: 254,
  })
  @IsString()
  @MaxLength(254)
  @IsEmail()
  adminEmail: string;
}

export class SuspendTenantDto {
  @ApiPropertyOptional({
    description:
      'Why the tenant is suspended; kept on the tenant record, and encrypted beside the audit log (the entry holds only its length): avoid naming people',
    maxLength: 500,
  })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export class ListTenantsQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @StrictInteger()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page', pattern: TOWNHALL_ID_PATTERN })
  @IsOptional()
  @IsTownhallId({ message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;

  @ApiPropertyOptional({ enum: TENANT_STATUSES })
  @IsOptional()
  @IsIn(TENANT_STATUSES)
  status?: TenantStatus;
}

/** The confirmation an immediate purge needs, spelled out so no typo or empty value can mean it. */
export const PURGE_IMMEDIATELY = 'immediately';

export class DeleteTenantQuery {
  @ApiPropertyOptional({
    type: 'integer',
    description:
      `Seconds before the schema is dropped, ${MIN_DELETION_GRACE_SECONDS} (one hour) or more; until then the ` +
      'deletion can be cancelled with resume. A shorter period is refused: to drop the data at once, ' +
      'give purge=immediately instead (graceSeconds=0 may accompany it).',
    minimum: 0,
    maximum: MAX_DELETION_GRACE_SECONDS,
    default: DEFAULT_DELETION_GRACE_SECONDS,
  })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(MAX_DELETION_GRACE_SECONDS)
  graceSeconds?: number;

  @ApiPropertyOptional({
    enum: [PURGE_IMMEDIATELY],
    description:
      'Confirms that the tenant’s schema and data are dropped at once, with no grace period in which resume ' +
      'could cancel the deletion. Cannot be undone.',
  })
  @IsOptional()
  @IsIn([PURGE_IMMEDIATELY], { message: `purge may only be "${PURGE_IMMEDIATELY}"` })
  purge?: typeof PURGE_IMMEDIATELY;
}
