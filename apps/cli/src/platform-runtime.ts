import { hostname, userInfo } from 'node:os';
import {
  DynamicModule,
  INestApplicationContext,
  Injectable,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthModule, OAuthModule } from '@townhall/auth';
import { AuditContext, AuditContextInit, AuditSequencer, systemAuditContext } from '@townhall/compliance';
import { loadConfig, TownhallConfig, TownhallLogger } from '@townhall/core';
import { PlatformModule, preparePlatform, resolveDatabase, stopEmbeddedPostgres } from '@townhall/platform';
import { ProvisioningModule } from '@townhall/provisioning';
import { SocialModule } from '@townhall/social';
import { TenancyModule } from '@townhall/tenancy';
import { notice, StderrLogger } from './cli-output';

/** What the CLI's commands act on: the platform runtime and the operator use cases, without HTTP. */
@Module({})
export class CliPlatformModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: CliPlatformModule,
      imports: [
        PlatformModule.forRoot(config),
        TenancyModule,
        ProvisioningModule,
        AuthModule,
        SocialModule,
        OAuthModule,
      ],
    };
  }
}

export interface OpenOptions {
  /** Run the queue workers in this process (the `worker` command); every other command only enqueues. */
  workers?: boolean;
}

/**
 * Opens the platform for the one command being run, on demand: `--help` and usage errors need no
 * database, so configuration is read, checked and the platform prepared only when a command runs.
 * The database is found as `npm start` finds it: DATABASE_URL, else the default address, else the
 * embedded PostgreSQL under the data directory (started here, or reused if another process runs it).
 * Closed when the CLI's own context closes, which ends every pool, queue and Redis connection.
 */
@Injectable()
export class PlatformRuntime implements OnApplicationShutdown {
  private context: INestApplicationContext | undefined;
  private loaded: TownhallConfig | undefined;
  private workers = false;

  /** The validated configuration (loads it on first use; throws ConfigValidationError). */
  config(): TownhallConfig {
    this.loaded ??= loadConfig();
    return this.loaded;
  }

  async open(options: OpenOptions = {}): Promise<INestApplicationContext> {
    if (this.context) return this.context;
    const workers = options.workers === true;
    this.workers = workers;
    const config = await resolveDatabase(this.config(), notice);
    this.loaded = config;
    await preparePlatform(config, { migrate: true, log: notice });
    const root = CliPlatformModule.forRoot({ ...config, provisioning: { ...config.provisioning, workers } });
    if (workers) {
      // A worker is a long-running service: structured logs like the HTTP processes.
      const app = await NestFactory.createApplicationContext(root, { bufferLogs: true });
      app.useLogger(app.get(TownhallLogger));
      this.context = app;
    } else {
      this.context = await NestFactory.createApplicationContext(root, { logger: new StderrLogger(config) });
    }
    return this.context;
  }

  /**
   * Opens the platform and runs `work` inside the command line's audit context, so what the command
   * changes is recorded as done from the CLI (see `cliAuditContext`). `sequence: false` leaves what it
   * recorded to the next worker or command (after a secret key rotation, this process's key is stale).
   */
  async act<T>(
    work: (context: INestApplicationContext) => Promise<T>,
    options: { sequence?: boolean } = {},
  ): Promise<T> {
    const context = await this.open();
    try {
      return await AuditContext.run(cliAuditContext(), () => work(context));
    } finally {
      if (options.sequence !== false) await this.sequenceWhatWasRecorded(context);
    }
  }

  /**
   * A one-shot command has no worker to give what it recorded its place in the audit log: it sequences
   * what was committed up to now before it ends (returning at once if a worker is at it right now), so
   * its entries are sequenced, not left pending until a worker next runs. The change is committed either
   * way, so a failure here is a notice, not a failed command.
   */
  private async sequenceWhatWasRecorded(context: INestApplicationContext): Promise<void> {
    if (this.workers) return;
    try {
      await context.get(AuditSequencer).runUntilNow();
    } catch (err) {
      notice(
        `The audit entries of this command stay pending until a worker sequences them (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
  }

  async close(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    try {
      await context?.close();
    } finally {
      // A one-shot command stops the embedded PostgreSQL it started, or its running server would keep
      // the process alive. A worker leaves it to the package's signal hook: it runs for long, and
      // processes started meanwhile (`npm start`, other commands) may be using the same server.
      if (!this.workers) await stopEmbeddedPostgres();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

/**
 * Who acts through the CLI: the system actor `cli`, on behalf of the operating-system account that ran
 * it. Whoever can run the CLI holds the database credentials, so there is no token to name; the account
 * and host say who it was, and being personal data they reach the audit log only as a pseudonymous
 * subject id (`actor.onBehalfOf`), their names encrypted in the side table.
 */
export function cliAuditContext(): AuditContextInit {
  const account = osAccount();
  const host = hostname();
  return systemAuditContext('cli', {
    person: { identifier: `os-user:${account}@${host}`, data: { osUser: account, host } },
  });
}

function osAccount(): string {
  try {
    return userInfo().username;
  } catch {
    // A container's uid may have no passwd entry.
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
