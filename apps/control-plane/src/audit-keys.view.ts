import { ApiProperty } from '@nestjs/swagger';
import type { AuditKeyDescription } from '@townhall/compliance';

/** One audit signing key as docs/audit-format.md §5 describes it. */
export class AuditKeyView implements AuditKeyDescription {
  @ApiProperty({
    description: 'First 8 bytes of SHA-256 of the raw public key, in hex',
    example: 'b6a101afcc535f4e',
  })
  keyId: string;
  @ApiProperty({ enum: ['ed25519'] }) algorithm: 'ed25519';
  @ApiProperty({ description: 'SubjectPublicKeyInfo PEM' }) publicKeyPem: string;
  @ApiProperty({ format: 'date-time', description: 'Signs checkpoints whose time is ≥ validFrom …' })
  validFrom: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: '… and < validTo; null while the key is current',
  })
  validTo: string | null;
}

/**
 * `{"keys": [...]}`: the body of both keys endpoints, and a file `townhall audit verify --key` reads as
 * it is.
 */
export class AuditKeysView {
  @ApiProperty({ type: [AuditKeyView], description: 'Current and retired keys' }) keys: AuditKeyView[];
}
