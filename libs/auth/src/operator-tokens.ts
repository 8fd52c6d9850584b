import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, QueryFailedError } from 'typeorm';
import { AuditActor, AuditedTransactions, AuditPersonalData } from '@townhall/compliance';
import { AuthError } from './auth.errors';
import { OperatorEntity } from './operator.entity';
import { bearerTokenHint, hashBearerToken } from './bearer-token';
import { generateOperatorToken, isPlausibleToken, OPERATOR_NAME_PATTERN } from './operator-token';

/** The operator created from TOWNHALL_OPERATOR_TOKEN, so a fresh installation can be administered at all. */
export const BOOTSTRAP_OPERATOR_NAME = 'bootstrap';

/** `last_used_at` is a hint for people auditing tokens; a write per request would be load for nothing. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface IssuedOperatorToken {
  operator: OperatorEntity;
  /** The only time the token exists in clear text: show it once, it cannot be recovered. */
  token: string;
}

/** How audit entries name an operator acting through its token. */
export function operatorAuditActor(operator: Pick<OperatorEntity, 'id' | 'tokenId'>): AuditActor {
  return { type: 'operator', id: operator.id, via: `token:${operator.tokenId}` };
}

/** An operator's name may be a person's (`alice@ops`): it goes to the audit log's encrypted side table. */
function operatorName(operator: Pick<OperatorEntity, 'id' | 'name'>): AuditPersonalData {
  return { identifier: `operator:${operator.id}`, data: { name: operator.name } };
}

const UNKNOWN_OPERATOR = { type: 'operator', id: 'unknown' };

/**
 * Issues, checks and revokes operator API tokens. Tokens are stored only as SHA-256 hashes. Issuing
 * and revoking are audited (`operator.create`, `operator.revoke`, `operator.bootstrap`), refusals too.
 */
@Injectable()
export class OperatorTokens {
  private readonly logger = new Logger(OperatorTokens.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audited: AuditedTransactions,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(OperatorEntity);
  }

  async create(name: string): Promise<IssuedOperatorToken> {
    const token = generateOperatorToken();
    const operator = await this.audited.run({
      apply: (manager) => this.insert(manager, name, token),
      recorded: (created) => ({
        action: 'operator.create',
        target: { type: 'operator', id: created.id },
        tenant: null,
        details: { tokenId: created.tokenId },
        personal: [operatorName(created)],
      }),
      refused: () => ({ action: 'operator.create', target: UNKNOWN_OPERATOR, tenant: null }),
    });
    return { operator, token };
  }

  private async insert(manager: EntityManager, name: string, token: string): Promise<OperatorEntity> {
    if (!OPERATOR_NAME_PATTERN.test(name)) {
      throw new AuthError(
        'invalid_operator_name',
        'An operator name is 1 to 64 letters, digits or . _ @ -, starting with a letter or digit.',
      );
    }
    try {
      const rows = (await manager.query(
        `INSERT INTO platform.operators (name, token_hash, token_hint) VALUES ($1, $2, $3) RETURNING id::text AS id`,
        [name, hashBearerToken(token), bearerTokenHint(token)],
      )) as { id: string }[];
      return await manager.getRepository(OperatorEntity).findOneOrFail({ where: { id: rows[0].id } });
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
      where: { tokenHash: hashBearerToken(token), revokedAt: IsNull() },
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
    const { operator } = await this.audited.run({
      apply: async (manager) => {
        const [, changed] = (await manager.query(
          `UPDATE platform.operators SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL`,
          [name],
        )) as [unknown, number];
        const found = await manager.getRepository(OperatorEntity).findOne({ where: { name } });
        if (!found) throw new AuthError('operator_not_found', `No operator named "${name}".`);
        return { operator: found, alreadyRevoked: changed === 0 };
      },
      recorded: ({ operator: revoked, alreadyRevoked }) => ({
        action: 'operator.revoke',
        target: { type: 'operator', id: revoked.id },
        tenant: null,
        details: { tokenId: revoked.tokenId, alreadyRevoked },
      }),
      refused: () => ({ action: 'operator.revoke', target: UNKNOWN_OPERATOR, tenant: null }),
    });
    return operator;
  }

  list(): Promise<OperatorEntity[]> {
    return this.repo.find({ order: { id: 'ASC' } });
  }

  /**
   * Makes the `bootstrap` operator hold exactly the configured token. Idempotent, and safe when several
   * processes start at once (one statement). A changed token replaces the old one, with a new token id,
   * and lifts a revocation (it is a new credential); an unchanged token that an operator revoked stays
   * revoked. Creating or replacing is audited as `operator.bootstrap`; a start that changes nothing
   * records nothing.
   */
  async ensureBootstrapOperator(token: string): Promise<OperatorEntity> {
    const operator = await this.audited.run({
      apply: async (manager) => {
        const change = await this.upsertBootstrap(manager, token);
        const current = await manager
          .getRepository(OperatorEntity)
          .findOneOrFail({ where: { name: BOOTSTRAP_OPERATOR_NAME } });
        return { current, change };
      },
      recorded: ({ current, change }) =>
        change === null
          ? null
          : {
              action: 'operator.bootstrap',
              target: { type: 'operator', id: current.id },
              tenant: null,
              details: { tokenId: current.tokenId, change },
            },
      refused: () => ({ action: 'operator.bootstrap', target: UNKNOWN_OPERATOR, tenant: null }),
    });
    if (operator.current.revokedAt) {
      this.logger.warn(
        'The bootstrap operator token (TOWNHALL_OPERATOR_TOKEN) was revoked; set a new one to use it again.',
      );
    }
    return operator.current;
  }

  /** Creates the bootstrap operator or replaces its token; null when it already holds this token. */
  private async upsertBootstrap(
    manager: EntityManager,
    token: string,
  ): Promise<'created' | 'token_replaced' | null> {
    if (!isPlausibleToken(token))
      throw new AuthError('invalid_token', 'The configured operator token is not usable as a bearer token.');
    try {
      const rows = (await manager.query(
        `INSERT INTO platform.operators (name, token_hash, token_hint) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE
           SET token_hash = EXCLUDED.token_hash, token_hint = EXCLUDED.token_hint, revoked_at = NULL,
               token_id = platform.next_id()
           WHERE operators.token_hash <> EXCLUDED.token_hash
         RETURNING (xmax = 0) AS created`,
        [BOOTSTRAP_OPERATOR_NAME, hashBearerToken(token), bearerTokenHint(token)],
      )) as { created: boolean }[];
      if (rows.length === 0) return null;
      return rows[0].created ? 'created' : 'token_replaced';
    } catch (err) {
      if (isUniqueViolation(err, 'operators_token_hash_key')) {
        throw new Error(
          'TOWNHALL_OPERATOR_TOKEN is already the token of another operator; choose a different one.',
          { cause: err },
        );
      }
      throw err;
    }
  }
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = err.driverError as { code?: string; constraint?: string };
  return driver.code === '23505' && driver.constraint === constraint;
}
