import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, Matches, Max, Min } from 'class-validator';
import { StrictInteger } from '@townhall/core';
import { IsTownhallId, TOWNHALL_ID_PATTERN } from '../shared/townhall-id';

// Query parameters of the regulator API. Each is validated strictly — a malformed request is refused
// with 400 problem details before anything is read or recorded.

/** Action names as the log spells them: `tenant.create`, `domain_block.create`. */
export const ACTION_PATTERN = /^[a-z][a-z0-9_-]{0,63}(\.[a-z][a-z0-9_-]{0,63}){0,3}$/;
export const MAX_ACTIONS = 20;
/** Sequence numbers and tree sizes are below 2^53 (docs/audit-format.md §1). */
const MAX_POSITION = Number.MAX_SAFE_INTEGER;
export const DEFAULT_CHECKPOINT_PAGE = 100;
export const MAX_CHECKPOINT_PAGE = 1000;
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ListCheckpointsQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Only checkpoints with a larger tree size (the nextAfter of the previous page)',
  })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(MAX_POSITION)
  after?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_CHECKPOINT_PAGE,
    default: DEFAULT_CHECKPOINT_PAGE,
  })
  @IsOptional()
  @StrictInteger()
  @Min(1)
  @Max(MAX_CHECKPOINT_PAGE)
  limit?: number;
}

export class ConsistencyProofQuery {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'The tree size of the checkpoint you kept',
  })
  @StrictInteger()
  @Min(0)
  @Max(MAX_POSITION)
  from: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'The tree size of a newer checkpoint; the newest when left out',
  })
  @IsOptional()
  @StrictInteger()
  @Min(1)
  @Max(MAX_POSITION)
  to?: number;
}

export class ExportAuditQuery {
  @ApiPropertyOptional({
    description:
      'Only this tenant’s entries (others become hashes). Required for a regulator scoped to tenants; ' +
      'omit for a platform-wide export.',
    pattern: TOWNHALL_ID_PATTERN,
  })
  @IsOptional()
  @IsTownhallId({ message: 'tenant must be a tenant id' })
  tenant?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, description: 'First sequence number' })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(MAX_POSITION)
  from?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'End of the range (exclusive); defaults to the newest checkpoint’s tree size',
  })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(MAX_POSITION)
  to?: number;

  @ApiPropertyOptional({
    type: String,
    description: `Comma-separated action names (at most ${MAX_ACTIONS}); other entries become hashes`,
    example: 'tenant.suspend,tenant.delete',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value))
  @IsArray({ message: 'actions must be one comma-separated list' })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ACTIONS, { message: `actions may name at most ${MAX_ACTIONS} actions` })
  @Matches(ACTION_PATTERN, { each: true, message: 'actions must be action names such as tenant.suspend' })
  actions?: string[];

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description:
      'The tree size of a checkpoint you kept: the bundle then proves the newest checkpoint extends it ' +
      '(verify with --since)',
  })
  @IsOptional()
  @StrictInteger()
  @Min(0)
  @Max(MAX_POSITION)
  since?: number;

  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    default: 'ndjson',
    description: 'ndjson: the verifiable bundle. csv: the entries only, for reading — not evidence.',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}
