import type { RegulatorScope } from './regulator-command';

export type RegulatorStatus = 'active' | 'expired' | 'revoked';

/** A regulator as the platform knows it (platform.regulators). The token exists only as its hash. */
export class Regulator {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly scope: RegulatorScope,
    /** The token's last characters, so a person can tell tokens apart without seeing them. */
    readonly tokenHint: string,
    readonly expiresAt: Date,
    /** The operator who issued it; null when issued from the command line. */
    readonly createdBy: string | null,
    readonly createdAt: Date,
    readonly lastUsedAt: Date | null,
    readonly revokedAt: Date | null,
  ) {}

  status(now: Date = new Date()): RegulatorStatus {
    if (this.revokedAt !== null) return 'revoked';
    return this.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active';
  }

  /** Whether the regulator may read the entries of `tenantId`, or of the whole platform when null. */
  mayRead(tenantId: string | null): boolean {
    if (this.scope.all) return true;
    return tenantId !== null && this.scope.tenantIds.includes(tenantId);
  }
}

/** A regulator as the operator API and the CLI show it: plain JSON, never the token. */
export interface RegulatorDescription {
  id: string;
  name: string;
  all: boolean;
  tenantIds: string[];
  status: RegulatorStatus;
  expiresAt: string;
  tokenHint: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function describeRegulator(regulator: Regulator): RegulatorDescription {
  return {
    id: regulator.id,
    name: regulator.name,
    all: regulator.scope.all,
    tenantIds: regulator.scope.all ? [] : regulator.scope.tenantIds,
    status: regulator.status(),
    expiresAt: regulator.expiresAt.toISOString(),
    tokenHint: regulator.tokenHint,
    createdBy: regulator.createdBy,
    createdAt: regulator.createdAt.toISOString(),
    lastUsedAt: regulator.lastUsedAt?.toISOString() ?? null,
    revokedAt: regulator.revokedAt?.toISOString() ?? null,
  };
}
