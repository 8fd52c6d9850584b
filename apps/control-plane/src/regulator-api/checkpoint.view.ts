import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditCheckpoint, CheckpointCosignature } from '@townhall/compliance';

/** A witness's cosignature (C2SP tlog-cosignature): the note signature line `— <name> <signature>`. */
export class CosignatureView implements CheckpointCosignature {
  @ApiProperty({ description: 'The witness’s key name', example: 'witness.dpa.example/w1' }) name: string;
  @ApiProperty({
    description:
      'Base64 of the key ID (4 bytes), the time (8 bytes, POSIX seconds) and the Ed25519 signature',
  })
  signature: string;
}

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
  @ApiPropertyOptional({
    type: [CosignatureView],
    description: 'Witnesses that cosigned it, once they have (docs/audit-format.md §13)',
  })
  cosignatures?: CosignatureView[];
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
