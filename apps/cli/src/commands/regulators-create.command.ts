import { Help, Option, SubCommand } from 'nest-commander';
import {
  CreateRegulatorCommand,
  MAX_REGULATOR_VALIDITY_DAYS,
  REGULATOR_NAME_RULE,
  RegulatorTokens,
} from '@townhall/auth';
import { checkText } from '@townhall/core';
import { CliUsageError, helpText, notice } from '../cli-output';
import { findTenant } from '../tenant-view';
import { PlatformCommand } from './platform-command';
import { printRegulator } from './regulators-view';

interface Options {
  tenant?: string[];
  all?: boolean;
  expiresAt: string;
  json?: boolean;
}

@SubCommand({
  name: 'create',
  arguments: '<name>',
  argsDescription: { name: 'who the token is for, e.g. the authority and its case (1–100 characters)' },
  description: 'issue a regulator token for the regulator API (shown this one time only)',
})
export class RegulatorsCreateCommand extends PlatformCommand {
  @Option({
    flags: '--tenant <tenant>',
    description: 'a tenant (id, slug or domain) the regulator may export; repeat for several',
  })
  tenant(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option({ flags: '--all', description: 'the regulator may export the whole platform' })
  all(): boolean {
    return true;
  }

  @Option({
    flags: '--expires-at <date>',
    description: `when the token stops working: RFC 3339 or YYYY-MM-DD (00:00 UTC); at most ${MAX_REGULATOR_VALIDITY_DAYS} days ahead`,
    required: true,
  })
  expiresAt(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print the regulator and its token as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall regulators create "Data Protection Authority — case 2025-117" --tenant bmi --expires-at 2026-06-30',
        'townhall regulators create "DSA coordinator" --tenant bmi --tenant social.bma.example --expires-at 2026-01-01T00:00:00Z',
        'townhall regulators create "External auditor 2025" --all --expires-at 2026-03-31 --json | jq -r .token',
      ],
      [
        'Give the regulator the token and the address of the regulator API (/api/regulator/v1). Only a hash',
        'of the token is stored; it stops working at --expires-at or when revoked (townhall regulators revoke).',
      ],
    );
  }

  async run([nameAsGiven]: string[], options: Options): Promise<void> {
    const name = checkText(nameAsGiven, REGULATOR_NAME_RULE);
    if (name.problem !== undefined) throw new CliUsageError(name.problem);
    const tenants = options.tenant ?? [];
    if (options.all === true && tenants.length > 0)
      throw new CliUsageError('give either --all or --tenant, not both');
    if (options.all !== true && tenants.length === 0) {
      throw new CliUsageError('a regulator needs a scope: --tenant <tenant> (repeatable) or --all');
    }
    const { regulator, token } = await this.runtime.act(async (context) => {
      const tenantIds = [];
      for (const reference of tenants) tenantIds.push((await findTenant(context, reference)).id);
      const command = new CreateRegulatorCommand(
        options.all === true
          ? { name: name.text, all: true, expiresAt: options.expiresAt }
          : { name: name.text, tenantIds, expiresAt: options.expiresAt },
      );
      return context.get(RegulatorTokens).create(command, null);
    });
    printRegulator(regulator, options.json, token);
    notice('warning: this token is shown only once and cannot be recovered; hand it over securely now.');
  }
}
