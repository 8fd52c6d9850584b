import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { MAX_REGULATOR_TENANTS, MAX_REGULATOR_VALIDITY_DAYS, REGULATOR_NAME_RULE } from '@townhall/auth';
import { HumanText } from '@townhall/core';
import { IsTownhallId } from '../shared/townhall-id';
import { ListTenantsQuery } from '../tenants/tenant.dto';

/**
 * Request shapes of the operator API over regulators. They give precise 400s per field; the rules that
 * span fields (exactly one of `all` and `tenantIds`, the expiry window) are `CreateRegulatorCommand`'s,
 * so the CLI gets the same.
 */
export class CreateRegulatorDto {
  @ApiProperty({
    description:
      'Who the token is for, e.g. the authority and its case; the text rule of a tenant’s displayName',
    maxLength: REGULATOR_NAME_RULE.maxLength,
    example: 'Data Protection Authority — case 2025-117',
  })
  @HumanText(REGULATOR_NAME_RULE)
  name: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'The tenants whose entries the regulator may export (give this or all: true)',
    maxItems: MAX_REGULATOR_TENANTS,
    example: ['7380412938240000001'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_REGULATOR_TENANTS)
  @IsString({ each: true })
  @IsTownhallId({ each: true, message: 'each of tenantIds must be a tenant id' })
  tenantIds?: string[];

  @ApiPropertyOptional({
    enum: [true],
    description: 'The whole platform: every tenant and platform-wide entries (give this or tenantIds)',
  })
  @IsOptional()
  @Equals(true, { message: 'all may only be true' })
  all?: true;

  @ApiProperty({
    description: `When the token stops working: an RFC 3339 timestamp, or a date meaning 00:00 UTC that day; in the future, at most ${MAX_REGULATOR_VALIDITY_DAYS} days ahead`,
    example: '2026-06-30T00:00:00Z',
  })
  @IsString()
  @MaxLength(40)
  expiresAt: string;
}

/** Keyset pagination as for tenants: `limit` and the `cursor` of the previous page. */
export class ListRegulatorsQuery extends PickType(ListTenantsQuery, ['limit', 'cursor'] as const) {}
