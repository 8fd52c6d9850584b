import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditActor, AuditedTransactions, AuditPersonalData } from '@townhall/compliance';
import { isId } from '@townhall/persistence';
import { bearerTokenHint, hashBearerToken } from './bearer-token';
import { compareIds, CreateRegulatorCommand } from './regulator-command';
import { RegulatorError } from './regulator-errors';
import { Regulator } from './regulator-identity';
import { generateRegulatorToken, isRegulatorToken } from './regulator-token';

export interface IssuedRegulatorToken {
  regulator: Regulator;
  /** The only time the token exists in clear text: show it once, it cannot be recovered. */
  token: string;
}

export interface RegulatorPage {
  items: Regulator[];
  nextCursor: string | null;
}

/** Why a presented token is refused, or the regulator it belongs to. */
export type RegulatorVerification =
  { status: 'valid'; regulator: Regulator } | { status: 'unknown' | 'expired' | 'revoked' };

/** `last_used_at` is a hint for people reviewing tokens; a write per request would be load for nothing. */
const LAST_USED_RESOLUTION_SECONDS = 60;

interface RegulatorRow {
  id: string;
  name: string;
  all_tenants: boolean;
  tenant_ids: string[];
  token_hint: string;
  expires_at: Date;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const SELECT_REGULATORS = `
  SELECT r.id::text AS id, r.name, r.all_tenants, r.token_hint, r.expires_at, r.created_by::text AS created_by,
         r.created_at, r.last_used_at, r.revoked_at,
         COALESCE(array_agg(rt.tenant_id::text) FILTER (WHERE rt.tenant_id IS NOT NULL), '{}') AS tenant_ids
    FROM platform.regulators r
    LEFT JOIN platform.regulator_tenants rt ON rt.regulator_id = r.id`;

/** How audit entries name a regulator acting through its token (one token per regulator, so one id). */
export function regulatorAuditActor(regulator: Pick<Regulator, 'id'>): AuditActor {
  return { type: 'regulator', id: regulator.id, via: `token:${regulator.id}` };
}

/** A regulator's name may be a person's ("J. Doe, auditor"): it goes to the encrypted side table. */
function regulatorName(regulator: Pick<Regulator, 'id' | 'name'>): AuditPersonalData {
  return { identifier: `regulator:${regulator.id}`, data: { name: regulator.name } };
}

function scopeDetails(regulator: Regulator): { all: boolean; tenantIds: string[]; expiresAt: string } {
  return {
    all: regulator.scope.all,
    tenantIds: regulator.scope.all ? [] : regulator.scope.tenantIds,
    expiresAt: regulator.expiresAt.toISOString(),
  };
}

const UNKNOWN_REGULATOR = { type: 'regulator', id: 'unknown' };

/**
 * Issues, lists, checks and revokes regulator tokens. Tokens are stored only as SHA-256 hashes. Issuing
 * and revoking are audited (`regulator.create`, `regulator.revoke`) in the change's transaction; refusals
 * are recorded too (see AuditedTransactions).
 */
@Injectable()
export class RegulatorTokens {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audited: AuditedTransactions,
  ) {}

  /** Issues a token; `createdBy` is the issuing operator, null from the command line. */
  async create(command: CreateRegulatorCommand, createdBy: string | null): Promise<IssuedRegulatorToken> {
    const token = generateRegulatorToken();
    const regulator = await this.audited.run({
      apply: (manager) => insertRegulator(manager, command, token, createdBy),
      recorded: (created) => ({
        action: 'regulator.create',
        target: { type: 'regulator', id: created.id },
        tenant: null,
        details: scopeDetails(created),
        personal: [regulatorName(created)],
      }),
      refused: () => ({
        action: 'regulator.create',
        target: UNKNOWN_REGULATOR,
        tenant: null,
        details: { all: command.scope.all },
      }),
    });
    return { regulator, token };
  }

  /** Keyset pagination by id, newest first; `cursor` is the last id of the previous page. */
  async list(opts: { limit: number; cursor?: string }): Promise<RegulatorPage> {
    if (opts.cursor !== undefined && !isId(opts.cursor)) {
      throw new RegulatorError('invalid_regulator', 'The cursor is not one this API returned.');
    }
    const rows = (await this.dataSource.query(
      `${SELECT_REGULATORS}
        WHERE $1::bigint IS NULL OR r.id < $1::bigint
        GROUP BY r.id ORDER BY r.id DESC LIMIT $2`,
      [opts.cursor ?? null, opts.limit + 1],
    )) as RegulatorRow[];
    const items = rows.slice(0, opts.limit).map(toRegulator);
    return { items, nextCursor: rows.length > opts.limit ? items[items.length - 1].id : null };
  }

  async findById(id: string): Promise<Regulator | null> {
    return findRegulator(this.dataSource.manager, id);
  }

  /**
   * Revokes a regulator's token at once. Revoking twice is not an error (the first time is kept), and
   * is recorded too: the request was made.
   */
  async revoke(id: string): Promise<Regulator> {
    const { regulator } = await this.audited.run({
      apply: async (manager) => {
        const [, changed] = (await manager.query(
          `UPDATE platform.regulators SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
          [isId(id) ? id : null],
        )) as [unknown, number];
        const found = await findRegulator(manager, id);
        if (!found) throw new RegulatorError('regulator_not_found', 'No regulator with this id.');
        return { regulator: found, alreadyRevoked: changed === 0 };
      },
      recorded: ({ regulator: revoked, alreadyRevoked }) => ({
        action: 'regulator.revoke',
        target: { type: 'regulator', id: revoked.id },
        tenant: null,
        details: { alreadyRevoked },
      }),
      refused: () => ({
        action: 'regulator.revoke',
        target: isId(id) ? { type: 'regulator', id } : UNKNOWN_REGULATOR,
        tenant: null,
      }),
    });
    return regulator;
  }

  /** The regulator a presented token belongs to, or why it is refused. */
  async verify(token: unknown): Promise<RegulatorVerification> {
    if (!isRegulatorToken(token)) return { status: 'unknown' };
    const [row] = (await this.dataSource.query(`${SELECT_REGULATORS} WHERE r.token_hash = $1 GROUP BY r.id`, [
      hashBearerToken(token),
    ])) as RegulatorRow[];
    if (!row) return { status: 'unknown' };
    const regulator = toRegulator(row);
    const status = regulator.status();
    if (status !== 'active') return { status };
    if (
      regulator.lastUsedAt === null ||
      Date.now() - regulator.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_SECONDS * 1000
    ) {
      // The condition is repeated in SQL so concurrent requests still write at most about once a minute.
      await this.dataSource.query(
        `UPDATE platform.regulators SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
        [regulator.id, LAST_USED_RESOLUTION_SECONDS],
      );
    }
    return { status: 'valid', regulator };
  }
}

async function insertRegulator(
  manager: EntityManager,
  command: CreateRegulatorCommand,
  token: string,
  createdBy: string | null,
): Promise<Regulator> {
  const tenantIds = command.scope.all ? [] : command.scope.tenantIds;
  await assertTenantsExist(manager, tenantIds);
  const [{ id }] = (await manager.query(
    `INSERT INTO platform.regulators (name, all_tenants, token_hash, token_hint, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text AS id`,
    [
      command.name,
      command.scope.all,
      hashBearerToken(token),
      bearerTokenHint(token),
      command.expiresAt,
      createdBy,
    ],
  )) as { id: string }[];
  if (tenantIds.length > 0) {
    await manager.query(
      `INSERT INTO platform.regulator_tenants (regulator_id, tenant_id) SELECT $1, unnest($2::bigint[])`,
      [id, tenantIds],
    );
  }
  return (await findRegulator(manager, id))!;
}

async function findRegulator(manager: EntityManager, id: string): Promise<Regulator | null> {
  if (!isId(id)) return null;
  const [row] = (await manager.query(`${SELECT_REGULATORS} WHERE r.id = $1 GROUP BY r.id`, [
    id,
  ])) as RegulatorRow[];
  return row ? toRegulator(row) : null;
}

/** A scope may name any tenant the registry knows, deleted ones included: their history stays auditable. */
async function assertTenantsExist(manager: EntityManager, tenantIds: string[]): Promise<void> {
  if (tenantIds.length === 0) return;
  const rows = (await manager.query(
    `SELECT id::text AS id FROM platform.tenants WHERE id = ANY($1::bigint[])`,
    [tenantIds],
  )) as { id: string }[];
  const known = new Set(rows.map((r) => r.id));
  const unknown = tenantIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const named = unknown.length > 10 ? `${unknown.slice(0, 10).join(', ')}, …` : unknown.join(', ');
    throw new RegulatorError('unknown_tenants', `No tenant with id ${named}.`, {
      unknownTenantIds: unknown,
    });
  }
}

function toRegulator(row: RegulatorRow): Regulator {
  return new Regulator(
    row.id,
    row.name,
    row.all_tenants ? { all: true } : { all: false, tenantIds: [...row.tenant_ids].sort(compareIds) },
    row.token_hint,
    row.expires_at,
    row.created_by,
    row.created_at,
    row.last_used_at,
    row.revoked_at,
  );
}
