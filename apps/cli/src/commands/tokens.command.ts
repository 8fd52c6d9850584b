import { Command, Help, Option, SubCommand } from 'nest-commander';
import { PersonalTokens } from '@townhall/auth';
import { helpText, notice, printFields, printJson } from '../cli-output';
import { CommandGroup } from './command-group';
import { PlatformCommand } from './platform-command';
import { tenantForAccounts } from './tenant-access';

interface CreateOptions {
  tenant: string;
  username: string;
  scopes?: string;
  name?: string;
  json?: boolean;
}

@SubCommand({
  name: 'create',
  description: 'issue an access token for a local account (for automation); shown once',
})
export class TokensCreateCommand extends PlatformCommand {
  @Option({ flags: '--tenant <tenant>', description: 'the tenant (id, slug or domain)', required: true })
  tenant(value: string): string {
    return value;
  }

  @Option({
    flags: '--username <username>',
    description: 'the local account the token acts as',
    required: true,
  })
  username(value: string): string {
    return value;
  }

  @Option({ flags: '--scopes <scopes>', description: 'space-separated OAuth scopes (default "read")' })
  scopes(value: string): string {
    return value;
  }

  @Option({ flags: '--name <name>', description: 'what the token is for, shown as its application' })
  name(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print {"access_token": …} as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall tokens create --tenant bmi --username press --scopes "read write"',
        'townhall tokens create --tenant bmi --username robot --scopes "write:statuses write:media" --name "Press releases" --json | jq -r .access_token',
      ],
      [
        'Use it as Authorization: Bearer <token> against https://<tenant domain>/api/v1/…; only its hash is stored.',
      ],
    );
  }

  async run(_args: string[], options: CreateOptions): Promise<void> {
    const issued = await this.runtime.act(async (context) => {
      const { ref } = await tenantForAccounts(context, options.tenant);
      return context.get(PersonalTokens).issue(ref, {
        username: options.username,
        scopes: options.scopes ?? 'read',
        applicationName: options.name,
      });
    });
    if (options.json) {
      printJson({ access_token: issued.accessToken, token_type: 'Bearer', scope: issued.scopes.join(' ') });
    } else {
      printFields([
        ['access token', issued.accessToken],
        ['scopes', issued.scopes.join(' ')],
      ]);
    }
    notice('warning: the token is shown only once; keep it secret.');
  }
}

@Command({
  name: 'tokens',
  description: 'access tokens of a tenant’s accounts, for automation',
  subCommands: [TokensCreateCommand],
})
export class TokensCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText(['townhall tokens create --tenant bmi --username press --scopes "read write"']);
  }
}
