import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { Checked, EmailAddress, HumanText, MAX_EMAIL_LENGTH, StrictInteger } from '@townhall/core';
import {
  checkTenantDomain,
  DEFAULT_DELETION_GRACE_SECONDS,
  DISPLAY_NAME_RULE,
  MAX_DELETION_GRACE_SECONDS,
  MIN_DELETION_GRACE_SECONDS,
  SLUG_PATTERN,
  SUSPENSION_REASON_RULE,
} from '@townhall/provisioning';
import { TENANT_STATUSES, TenantStatus } from '@townhall/tenancy';
import { IsTownhallId, TOWNHALL_ID_PATTERN } from '../shared/townhall-id';

/**
 * Request shapes of the operator API. They give precise 400s at the edge; the use cases validate their
 * commands again, so the CLI and workers get the same rules.
 */

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
    description:
      'The instance’s host name; compared case-insensitively, without a trailing dot. Refused: anything that ' +
      'is not already a host name (a URL, a port, percent-escapes, invisible characters), a label mixing ' +
      'scripts (Latin with Cyrillic, say), the platform’s own host names, and a look-alike of another ' +
      'tenant’s domain (409 domain_confusable)',
    example: 'social.bmi.example',
    maxLength: 254,
  })
  @Checked((value) => checkTenantDomain(value).problem)
  domain: string;

  @ApiProperty({
    description:
      'The organisation’s name, published as the instance’s title. Stored in Unicode NFC without surrounding ' +
      'spaces; length in characters as people see them; no control, bidirectional-formatting or invisible ' +
      'characters',
    minLength: 1,
    maxLength: DISPLAY_NAME_RULE.maxLength,
    example: 'Federal Ministry of the Interior',
  })
  @HumanText(DISPLAY_NAME_RULE)
  displayName: string;

  @ApiProperty({
    format: 'email',
    description:
      'Becomes the owner account of the instance: local@domain, an ASCII dot-atom local part and a host name ' +
      'with at least two labels',
    example: 'press@bmi.example',
    maxLength: MAX_EMAIL_LENGTH,
  })
  @EmailAddress()
  adminEmail: string;
}

export class SuspendTenantDto {
  @ApiPropertyOptional({
    description:
      'Why the tenant is suspended; kept on the tenant record, and encrypted beside the audit log (the entry holds only its length): avoid naming people. The same text rule as displayName',
    maxLength: SUSPENSION_REASON_RULE.maxLength,
  })
  @IsOptional()
  @HumanText(SUSPENSION_REASON_RULE)
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

export class SetMediaQuotaDto {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      'Bytes of media (images, video, audio with their previews) the tenant may store; 0 for no limit; ' +
      "null to follow the platform's TOWNHALL_MEDIA_QUOTA_BYTES. Uploads beyond it are refused with 422.",
    minimum: 0,
    example: 10_737_418_240,
  })
  @ValidateIf((o: SetMediaQuotaDto) => o.bytes !== null)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  bytes: number | null;
}
