import type { TownhallConfig } from '@townhall/core';
import {
  ensureOwnerMayActAs,
  PLATFORM_SEALED_COLUMNS,
  TENANT_SEALED_COLUMNS,
  type SealedColumn,
} from '@townhall/persistence';
import { type Queryable, sealedTable, select, selectList, tenantSchemasWith } from './secret-key-check';

/** Rows re-sealed per statement: bounded memory whatever the size of a table. */
const BATCH = 500;

/** A stored value that did not open: which one, for the person who has to look at it. */
export class UnopenedSecretError extends Error {
  constructor(
    readonly what: string,
    options: { cause: unknown },
  ) {
    super(`${what} does not open (${(options.cause as Error).message})`, options);
    this.name = 'UnopenedSecretError';
  }
}

/** How far a re-sealing is: `done` of `total` items of one kind (rows, or tenant schemas). */
export interface RotationProgress {
  label: string;
  done: number;
  total: number;
}

/**
 * The new sealed value of one stored value of `column` with associated data `aad`, or null to leave it
 * as it is.
 */
export type Resealer = (column: SealedColumn, sealed: string, aad: string) => string | null;

/**
 * Seals every value of every column in the catalogue (sealed-secrets.ts) again, in the caller's
 * transaction on the owner's connection: platform tables, then the tables of every tenant schema,
 * which belong to the application role — the owner acts as it there (and makes itself a member of it
 * first; `ensureOwnerMayActAs` throws SQL state 42501 when it may not). Returns the count of values
 * changed, by kind, in the order done; `after` runs after each kind of values (crash tests stop there).
 */
export async function resealCatalogue(
  q: Queryable,
  config: Pick<TownhallConfig, 'database'>,
  reseal: Resealer,
  progress: (p: RotationProgress) => void,
  after: (kind: 'platform' | 'tenant') => void = () => undefined,
): Promise<{ label: string; count: number }[]> {
  const done: { label: string; count: number }[] = [];
  for (const column of PLATFORM_SEALED_COLUMNS) {
    const [{ n }] = await select<{ n: number }>(
      q,
      `SELECT count(*)::int AS n FROM ${column.table} WHERE ${column.column} IS NOT NULL`,
    );
    const count = await resealColumn(q, column, null, reseal, (rows) =>
      progress({ label: column.label, done: rows, total: n }),
    );
    done.push({ label: column.label, count });
  }
  after('platform');

  const role = config.database.appRole;
  for (const column of TENANT_SEALED_COLUMNS) {
    const schemas = await tenantSchemasWith(q, column);
    if (role && schemas.length > 0) await ensureOwnerMayActAs(q, role);
    let count = 0;
    for (const [i, schema] of schemas.entries()) {
      if (role) await q.query(`SET LOCAL ROLE ${role}`);
      count += await resealColumn(q, column, schema, reseal, () => undefined);
      if (role) await q.query(`SET LOCAL ROLE NONE`);
      progress({ label: `${column.label} (tenant schemas)`, done: i + 1, total: schemas.length });
    }
    done.push({ label: column.label, count });
  }
  after('tenant');
  return done;
}

/** Seals the values of `column` (in `schema` for a tenant table) again; returns how many changed. */
async function resealColumn(
  q: Queryable,
  column: SealedColumn,
  schema: string | null,
  reseal: Resealer,
  progress: (rows: number) => void,
): Promise<number> {
  const table = sealedTable(column, schema);
  const key = column.key;
  let after: string | null = null;
  let count = 0;
  let seen = 0;
  for (;;) {
    const rows: Record<string, string>[] = await select<Record<string, string>>(
      q,
      `SELECT ${selectList(column)} FROM ${table}
        WHERE ${column.column} IS NOT NULL ${after === null ? '' : `AND ${key.column} > $1::${key.type}`}
        ORDER BY ${key.column} LIMIT ${BATCH}`,
      after === null ? [] : [after],
    );
    if (rows.length === 0) return count;
    const changed = rows.flatMap((row) => {
      let sealed: string | null;
      try {
        sealed = reseal(column, row[column.column], column.aad(row, schema ?? ''));
      } catch (cause) {
        const where = schema === null ? column.table : `${schema}.${column.table}`;
        throw new UnopenedSecretError(
          `one of the ${column.label} in ${where} (${key.column} ${row[key.column]})`,
          {
            cause,
          },
        );
      }
      return sealed === null ? [] : [{ key: row[key.column], sealed }];
    });
    if (changed.length > 0) {
      await q.query(
        `UPDATE ${table} t SET ${column.column} = v.sealed
           FROM unnest($1::text[], $2::text[]) AS v(key, sealed) WHERE t.${key.column} = v.key::${key.type}`,
        [changed.map((c) => c.key), changed.map((c) => c.sealed)],
      );
    }
    count += changed.length;
    seen += rows.length;
    after = rows[rows.length - 1][key.column];
    progress(seen);
  }
}
