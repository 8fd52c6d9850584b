import { ApiProperty } from '@nestjs/swagger';
import type { RegulatorDescription, RegulatorStatus } from '@townhall/auth';

export const REGULATORS_PATH = '/api/platform/v1/regulators';

export function regulatorPath(id: string): string {
  return `${REGULATORS_PATH}/${id}`;
}

const STATUSES: RegulatorStatus[] = ['active', 'expired', 'revoked'];

/** A regulator as the operator API shows it (`describeRegulator`); never carries the token. */
export class RegulatorView implements RegulatorDescription {
  @ApiProperty({ example: '7380412938240000101' }) id: string;
  @ApiProperty({ example: 'Data Protection Authority — case 2025-117' }) name: string;
  @ApiProperty({ description: 'Whether the regulator may read the whole platform' }) all: boolean;
  @ApiProperty({ type: [String], description: 'The tenants in scope; empty when all is true' })
  tenantIds: string[];
  @ApiProperty({ enum: STATUSES, description: 'active until expiresAt or revocation' })
  status: RegulatorStatus;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ description: 'The token’s last four characters', example: 'x9Qa' }) tokenHint: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The operator who issued it; null when issued from the command line',
  })
  createdBy: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Last use, to the minute',
  })
  lastUsedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
}

export class IssuedRegulatorView extends RegulatorView {
  @ApiProperty({
    description: 'The bearer token for /api/regulator/v1. Shown this one time only: only its hash is stored.',
    example: 'thrg_3q2-7wXo0bYk6cV5m1ZsJfNQe8uHtRrLpAaDgKiE9yU',
  })
  token: string;
}

export class RegulatorPageView {
  @ApiProperty({ type: [RegulatorView] }) items: RegulatorView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor to get the next page; null on the last page',
  })
  nextCursor: string | null;
}
