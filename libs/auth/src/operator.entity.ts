import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { NEXT_ID_SQL } from '@townhall/persistence';

/** A person or system allowed to use the operator API (platform.operators). Only the token's hash is kept. */
@Entity({ name: 'operators', schema: 'platform' })
export class OperatorEntity {
  @PrimaryColumn({ type: 'bigint', default: () => NEXT_ID_SQL }) id: string;
  @Column('text') name: string;
  @Column({ name: 'token_hash', type: 'bytea', select: false }) tokenHash: Buffer;
  /** The token's last characters, so a person can tell which token is which without seeing it. */
  @Column({ name: 'token_hint', type: 'text' }) tokenHint: string;
  /** The id of the current token, which audit entries name as `actor.via`; new when the token is replaced. */
  @Column({ name: 'token_id', type: 'bigint' }) tokenId: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
}

export const AUTH_ENTITIES = [OperatorEntity];
