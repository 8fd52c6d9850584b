import { checkText, type TextRule } from '@townhall/core';
import { isId } from '@townhall/persistence';
import { RegulatorError } from './regulator-errors';

/**
 * Issuing a regulator, validated when the command is made so the HTTP API and the CLI apply the same
 * rules (HTTP also validates its DTO, for precise messages per field).
 */
export const REGULATOR_NAME_RULE: TextRule = { field: 'name', maxLength: 100 };
/** A named scope is meant for a handful of tenants; a regulator of everything uses `all`. */
export const MAX_REGULATOR_TENANTS = 500;
/** Regulator tokens always expire; two years bounds the damage of a token nobody remembers to revoke. */
export const MAX_REGULATOR_VALIDITY_DAYS = 730;

/** What a regulator may read: the whole platform, or the entries of some tenants. */
export type RegulatorScope = { all: true } | { all: false; tenantIds: string[] };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * An expiry as people write it: an RFC 3339 timestamp with its offset, or a date (`2026-06-30`),
 * which means the start of that day in UTC. Null for anything else, including impossible dates.
 */
export function parseRegulatorExpiry(value: string): Date | null {
  if (!RFC3339.test(value) && !DATE.test(value)) return null;
  const date = new Date(DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return null;
  // Date.parse rolls 2026-02-30 over to March; a date that does not exist is a typo, not a wish.
  const day = value.slice(0, 10);
  return new Date(`${day}T00:00:00Z`).toISOString().startsWith(day) ? date : null;
}

export interface CreateRegulatorInput {
  name: string;
  all?: boolean;
  tenantIds?: string[];
  expiresAt: string;
}

export class CreateRegulatorCommand {
  readonly name: string;
  readonly scope: RegulatorScope;
  readonly expiresAt: Date;

  constructor(input: CreateRegulatorInput, now: Date = new Date()) {
    const name = checkText(input.name, REGULATOR_NAME_RULE);
    if (name.problem !== undefined) throw invalid(name.problem);
    this.name = name.text;
    this.scope = scopeOf(input);
    const expiresAt = parseRegulatorExpiry(input.expiresAt);
    if (expiresAt === null) {
      throw invalid('expiresAt must be an RFC 3339 timestamp (2026-06-30T12:00:00Z) or a date (2026-06-30)');
    }
    if (expiresAt.getTime() <= now.getTime()) throw invalid('expiresAt must be in the future');
    if (expiresAt.getTime() > now.getTime() + MAX_REGULATOR_VALIDITY_DAYS * DAY_MS) {
      throw invalid(`expiresAt must be at most ${MAX_REGULATOR_VALIDITY_DAYS} days ahead`);
    }
    this.expiresAt = expiresAt;
  }
}

function scopeOf(input: CreateRegulatorInput): RegulatorScope {
  if (input.all === true) {
    if (input.tenantIds !== undefined) throw invalid('give either all: true or tenantIds, not both');
    return { all: true };
  }
  if (input.all !== undefined) throw invalid('all may only be true; to name tenants, give tenantIds');
  const ids = input.tenantIds;
  if (ids === undefined || ids.length === 0) {
    throw invalid('a regulator needs a scope: tenantIds (one or more tenant ids) or all: true');
  }
  if (ids.length > MAX_REGULATOR_TENANTS) throw invalid(`at most ${MAX_REGULATOR_TENANTS} tenantIds`);
  const bad = ids.findIndex((id) => !isId(id));
  if (bad !== -1) throw invalid(`tenantIds[${bad}] is not a tenant id`);
  return { all: false, tenantIds: [...new Set(ids)].sort(compareIds) };
}

/** Orders numeric ids as numbers (they are up to 19 digits, beyond a double's precision). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function invalid(detail: string): RegulatorError {
  return new RegulatorError('invalid_regulator', detail);
}
