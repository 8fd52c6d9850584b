import { describeRegulator, type Regulator, type RegulatorDescription } from '@townhall/auth';
import { printFields, printJson, printTable } from '../cli-output';

function scopeText(view: RegulatorDescription): string {
  return view.all ? 'all tenants' : `tenants ${view.tenantIds.join(', ')}`;
}

/** One regulator for a person (with its token when just issued), or as JSON (the operator API's shape). */
export function printRegulator(regulator: Regulator, json: boolean | undefined, token?: string): void {
  const view = describeRegulator(regulator);
  if (json) {
    printJson(token === undefined ? view : { ...view, token });
    return;
  }
  const fields: [string, string][] = [
    ['regulator', view.name],
    ['id', view.id],
    ['scope', scopeText(view)],
    ['status', view.status],
    ['expires at', view.expiresAt],
  ];
  if (view.revokedAt) fields.push(['revoked at', view.revokedAt]);
  if (token !== undefined) fields.push(['token', token]);
  printFields(fields);
}

export function printRegulatorTable(regulators: RegulatorDescription[]): void {
  printTable(
    ['id', 'name', 'scope', 'status', 'expires', 'token', 'last used'],
    regulators.map((v) => [
      v.id,
      v.name,
      scopeText(v),
      v.status,
      v.expiresAt,
      `…${v.tokenHint}`,
      v.lastUsedAt ?? '',
    ]),
  );
}
