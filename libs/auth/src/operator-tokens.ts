import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, QueryFailedError } from 'typeorm';
import { AuthError } from './auth.errors';
import { OperatorEntity } from './operator.entity';
import {
  generateOperatorToken,
  hashOperatorToken,
  isPlausibleToken,
  OPERATOR_NAME_PATTERN,
  operatorTokenHint,
} from './operator-token';

/** The operator created from TOWNHALL_OPERATOR_TOKEN, so a fresh installation can be administered at all. */
export const BOOTSTRAP_OPERATOR_NAME = 'bootstrap';

/** `last_used_at` is a hint for people auditing tokens; a write per request would be load for nothing. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface IssuedOperatorToken {
  operator: OperatorEntity;
  /** The only time the token exists in clear text: show it once, it cannot be recovered. */
  token: string;
}

/** Issues, checks and revokes operator API tokens. Tokens are stored only as SHA-256 hashes. */
@Injectable()
export class OperatorTokens {
  private readonly logger = new Logger(OperatorTokens.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(OperatorEntity);
  }

  async create(name: string): Promise<IssuedOperatorToken> {
    if (!OPERATOR_NAME_PATTERN.test(name)) {
      throw new AuthError(
        'invalid_operator_name',
        'An operator name is 1 to 64 letters, digits or . _ @ -, starting with a letter or digit.',
      );
    }
    const token = generateOperatorToken();
    try {
      const rows = (await this.dataSource.query(
        `INSERT INTO platform.operators (name, token_hash, token_hint) VALUES ($1, $2, $3) RETURNING id::text AS id`,
        [name, hashOperatorToken(token), operatorTokenHint(token)],
      )) as { id: string }[];
      return { operator: await this.repo.findOneOrFail({ where: { id: rows[0].id } }), token };
    } catch (err) {
      if (isUniqueViolation(err, 'operators_name_key')) {
        throw new AuthError(
          'operator_exists',
          `An operator named "${name}" already exists (names are never reused, even after revocation).`,
        );
      }
      throw err;
    }
  }

  /** The operator a token belongs to, or null when it is unknown or revoked. */
  async verify(token: unknown): Promise<OperatorEntity | null> {
    if (!isPlausibleToken(token)) return null;
    const operator = await this.repo.findOne({
      where: { tokenHash: hashOperatorToken(token), revokedAt: IsNull() },
    });
    if (!operator) return null;
    if (
      operator.lastUsedAt === null ||
      Date.now() - operator.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS
    ) {
      // The condition is repeated in SQL so concurrent requests still write at most about once a minute.
      await this.dataSource.query(
        `UPDATE platform.operators SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
        [operator.id, LAST_USED_RESOLUTION_MS / 1000],
      );
    }
    return operator;
  }

  /** Revokes an operator's token. Revoking twice is not an error; the first revocation time is kept. */
  async revoke(name: string): Promise<OperatorEntity> {
    await this.dataSource.query(
      `UPDATE platform.operators SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`,
      [name],
    );
    const operator = await this.repo.findOne({ where: { name } });
    if (!operator) throw new AuthError('operator_not_found', `No operator named "${name}".`);
    return operator;
  }

  list(): Promise<OperatorEntity[]> {
    return this.repo.find({ order: { id: 'ASC' } });
  }

  /**
   * Makes the `bootstrap` operator hold exactly the configured token. Idempotent, and safe when several
   * processes start at once (one statement). A changed token replaces the old one and lifts a revocation
   * (it is a new credential); an unchanged token that an operator revoked stays revoked.
   */
  async ensureBootstrapOperator(token: string): Promise<OperatorEntity> {
    if (!isPlausibleToken(token))
      throw new AuthError('invalid_token', 'The configured operator token is not usable as a bearer token.');
    try {
      await this.dataSource.query(
        `INSERT INTO platform.operators (name, token_hash, token_hint) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE
           SET token_hash = EXCLUDED.token_hash, token_hint = EXCLUDED.token_hint, revoked_at = NULL
           WHERE operators.token_hash <> EXCLUDED.token_hash`,
        [BOOTSTRAP_OPERATOR_NAME, hashOperatorToken(token), operatorTokenHint(token)],
      );
    } catch (err) {
      if (isUniqueViolation(err, 'operators_token_hash_key')) {
        throw new Error(
          'TOWNHALL_OPERATOR_TOKEN is already the token of another operator; choose a different one.',
          { cause: err },
        );
      }
      throw err;
    }
    const operator = await this.repo.findOneOrFail({ where: { name: BOOTSTRAP_OPERATOR_NAME } });
    if (operator.revokedAt) {
      this.logger.warn(
        'The bootstrap operator token (TOWNHALL_OPERATOR_TOKEN) was revoked; set a new one to use it again.',
      );
    }
    return operator;
  }
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = err.driverError as { code?: string; constraint?: string };
  return driver.code === '23505' && driver.constraint === constraint;
}
