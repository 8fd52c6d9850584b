import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { ownerDataSourceOptions } from '@townhall/persistence';

/**
 * The audit log's writer connection: a small pool logged in as the owner (DATABASE_URL), which alone may
 * move pending entries into the log, sign checkpoints and rotate keys — the application role may only
 * append pending entries and read. Opened on first use, so a process that never sequences or rotates
 * holds no owner connection; closed at shutdown, after the sequencer's last batch. With the application
 * role off there is one login, and this is the application's own DataSource.
 */
@Injectable()
export class AuditOwnerConnection implements OnApplicationShutdown {
  private opening: Promise<DataSource> | undefined;

  constructor(
    @InjectDataSource() private readonly application: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  dataSource(): Promise<DataSource> {
    if (this.config.database.appRole === null) return Promise.resolve(this.application);
    this.opening ??= new DataSource({
      ...ownerDataSourceOptions(this.config, { name: 'townhall-audit', max: 2 }),
      entities: [],
    })
      .initialize()
      .catch((err: unknown) => {
        // The next use tries again (the database may be back by then).
        this.opening = undefined;
        throw err;
      });
    return this.opening;
  }

  /** Whether `connection` is this one: the audit log changes only through it. */
  async owns(connection: DataSource): Promise<boolean> {
    return connection === (await this.dataSource());
  }

  async onApplicationShutdown(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    const ds = await opening?.catch(() => undefined);
    if (ds?.isInitialized) await ds.destroy();
  }
}
