import { Command, Help, Option, SubCommand } from 'nest-commander';
import { LocalAccountCommands, USER_ROLES, type UserRole } from '@townhall/social';
import { CliUsageError, helpText, notice, printFields, printJson } from '../cli-output';
import { CommandGroup } from './command-group';
import { PlatformCommand } from './platform-command';
import { tenantForAccounts } from './tenant-access';

interface CreateOptions {
  tenant: string;
  username: string;
  email: string;
  role?: string;
  displayName?: string;
  json?: boolean;
}

@SubCommand({
  name: 'create',
  description: 'create a local account and its login; prints the generated password once',
})
export class AccountsCreateCommand extends PlatformCommand {
  @Option({ flags: '--tenant <tenant>', description: 'the tenant (id, slug or domain)', required: true })
  tenant(value: string): string {
    return value;
  }

  @Option({
    flags: '--username <username>',
    description: 'letters, digits and _, at most 30',
    required: true,
  })
  username(value: string): string {
    return value;
  }

  @Option({ flags: '--email <email>', description: 'the login’s e-mail address', required: true })
  email(value: string): string {
    return value;
  }

  @Option({ flags: '--role <role>', description: `${USER_ROLES.join(', ')} (default user)` })
  role(value: string): string {
    if (!(USER_ROLES as readonly string[]).includes(value)) {
      throw new CliUsageError(`--role must be one of ${USER_ROLES.join(', ')}`);
    }
    return value;
  }

  @Option({
    flags: '--display-name <name>',
    description: 'the name shown on the profile (at most 30 characters)',
  })
  displayName(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print the account and its password as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall accounts create --tenant bmi --username press --email press@bmi.example --role staff',
        'townhall accounts create --tenant social.bmi.example --username robot --email robot@bmi.example --json | jq -r .password',
      ],
      [
        'The password is shown only this once; only its hash is stored. Sign in with the e-mail address and',
        'the password from any Mastodon app pointed at the tenant’s domain.',
      ],
    );
  }

  async run(_args: string[], options: CreateOptions): Promise<void> {
    const created = await this.runtime.act(async (context) => {
      const { ref, primaryDomain } = await tenantForAccounts(context, options.tenant);
      const account = await context.get(LocalAccountCommands).create(ref, primaryDomain, {
        username: options.username,
        email: options.email,
        role: options.role as UserRole | undefined,
        displayName: options.displayName,
      });
      return { ...account, acct: `${account.username}@${primaryDomain}` };
    });
    if (options.json) {
      printJson({
        id: created.accountId,
        username: created.username,
        acct: created.acct,
        role: created.role,
        password: created.password,
      });
    } else {
      printFields([
        ['account', created.acct],
        ['id', created.accountId],
        ['role', created.role],
        ['password', created.password],
      ]);
    }
    notice('warning: the password is shown only once; hand it over securely now.');
  }
}

@Command({
  name: 'accounts',
  description: 'local accounts of a tenant (the logins its people sign in with)',
  subCommands: [AccountsCreateCommand],
})
export class AccountsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall accounts create --tenant bmi --username press --email press@bmi.example --role staff',
    ]);
  }
}
