import { ApiProperty } from '@nestjs/swagger';
import type { AuditCheckpoint } from '@townhall/compliance';

/**
 * A signed tree head exactly as a bundle's `checkpoint` line carries it (docs/audit-format.md §6), so a
 * regulator can keep it and later pass it to `townhall audit verify --since`.
 */
export class CheckpointView implements AuditCheckpoint {
  @ApiProperty({ example: 'townhall.example/audit' }) origin: string;
  @ApiProperty({ description: 'Number of entries the checkpoint covers', example: 1000 }) treeSize: number;
  @ApiProperty({ description: 'Base64 RFC 6962 root hash of the first treeSize entries' }) rootHash: string;
  @ApiProperty({ example: '2025-01-15T10:05:00.000Z' }) time: string;
  @ApiProperty({ description: 'The signing key, as listed by /audit/keys', example: 'b6a101afcc535f4e' })
  keyId: string;
  @ApiProperty({ description: 'Base64 Ed25519 signature of the checkpoint text' }) signature: string;
}

export class CheckpointPageView {
  @ApiProperty({ type: [CheckpointView], description: 'By ascending tree size' }) items: CheckpointView[];
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Pass as after to get the next page; null on the last page',
  })
  nextAfter: number | null;
}
