import { Command, Help } from 'nest-commander';
import { helpText } from '../cli-output';
import { CommandGroup } from './command-group';
import { TenantsCreateCommand } from './tenants-create.command';
import { TenantsDeleteCommand } from './tenants-delete.command';
import { TenantsListCommand } from './tenants-list.command';
import { TenantsResumeCommand } from './tenants-resume.command';
import { TenantsRetryCommand } from './tenants-retry.command';
import { TenantsShowCommand } from './tenants-show.command';
import { TenantsSuspendCommand } from './tenants-suspend.command';

/** In the order `townhall tenants --help` lists them. */
export const TENANT_SUBCOMMANDS = [
  TenantsCreateCommand,
  TenantsListCommand,
  TenantsShowCommand,
  TenantsSuspendCommand,
  TenantsResumeCommand,
  TenantsRetryCommand,
  TenantsDeleteCommand,
];

@Command({
  name: 'tenants',
  description: 'create, inspect and manage tenants (one organisation’s instance each)',
  subCommands: TENANT_SUBCOMMANDS,
})
export class TenantsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall tenants create --slug bmi --domain social.bmi.example --display-name "Ministry" --admin-email press@bmi.example --wait',
        'townhall tenants list --status failed',
        'townhall tenants show social.bmi.example',
      ],
      ['A tenant can be named by its id, its slug or one of its domains.'],
    );
  }
}
