import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  AuditCheckpoint,
  AuditConsistencyProof,
  CheckpointCosignature,
  KeyRotationRecord,
} from '@townhall/compliance';
import { AuditKeyView } from '../audit-keys.view';

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

/** A key rotation record (docs/audit-format.md §6): the outgoing key vouching for the incoming one. */
export class KeyRotationView implements KeyRotationRecord {
  @ApiProperty({ example: '2025-03-01T00:00:00.000Z' }) time: string;
  @ApiProperty({ example: '8c44e7f2cfa79833' }) previousKeyId: string;
  @ApiProperty({ type: AuditKeyView }) key: AuditKeyView;
  @ApiProperty({ description: 'Base64 Ed25519 signature by the outgoing key' }) signature: string;
}

/**
 * A consistency proof on its own (docs/audit-format.md §8), as `townhall audit verify-consistency` reads
 * it from a file: that the checkpoint of size `to` extends the tree of size `from`.
 */
export class ConsistencyProofView implements AuditConsistencyProof {
  @ApiProperty({ description: 'The tree size of the checkpoint you kept', example: 1000 }) from: number;
  @ApiProperty({ description: 'The tree size of checkpoint', example: 2000 }) to: number;
  @ApiProperty({ type: CheckpointView, description: 'The newer checkpoint: keep it for next time' })
  checkpoint: CheckpointView;
  @ApiProperty({
    type: [KeyRotationView],
    description: 'Every key rotation, for a verifier that holds only an older key',
  })
  keyRotations: KeyRotationView[];
  @ApiProperty({
    type: [String],
    description: 'The RFC 9162 §2.1.4.1 consistency proof from size from to size to, base64',
  })
  hashes: string[];
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
