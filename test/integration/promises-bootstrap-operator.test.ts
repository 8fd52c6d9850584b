import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AuthModule } from '@townhall/auth';
import { AuditEntry, AuditStore } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { BootstrapOperator } from '../../apps/control-plane/src/bootstrap-operator';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';

/**
 * docs/compliance.md: `operator.bootstrap` records `change` — `created` on the first start with
 * TOWNHALL_OPERATOR_TOKEN, `token_replaced` when a start brings a different token — and a start that
 * changes nothing records nothing. Each start here is the control plane's start-up step itself.
 */
describe('the bootstrap operator’s audit entries (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    await preparePlatform(config, { migrate: true });
  });

  afterAll(async () => {
    await drop?.();
  });

  /** Starts (and stops) what the control plane runs at start-up with `token` configured. */
  async function startWith(token: string): Promise<{ entries: AuditEntry[]; tokenId: string }> {
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot({ ...config, operatorToken: token }), AuthModule],
      providers: [BootstrapOperator],
    }).compile();
    const app = await moduleRef.init();
    try {
      const [{ tokenId }] = (await app
        .get(DataSource)
        .query(`SELECT token_id::text AS "tokenId" FROM platform.operators WHERE name = 'bootstrap'`)) as [
        { tokenId: string },
      ];
      const { entries } = await exportedLog(app.get(AuditStore));
      return { entries: entries.filter((e) => e.action === 'operator.bootstrap'), tokenId };
    } finally {
      await app.close();
    }
  }

  it('records created, then token_replaced for a new token, and nothing for the same token again', async () => {
    const first = `bootstrap-first-${randomBytes(16).toString('hex')}`;
    const second = `bootstrap-second-${randomBytes(16).toString('hex')}`;

    const created = await startWith(first);
    expect(created.entries.map((e) => [e.actor, e.details])).toEqual([
      [
        { type: 'system', id: 'control-plane' },
        { tokenId: created.tokenId, change: 'created' },
      ],
    ]);

    const replaced = await startWith(second);
    expect(replaced.tokenId).not.toBe(created.tokenId);
    expect(replaced.entries.map((e) => e.details)).toEqual([
      { tokenId: created.tokenId, change: 'created' },
      { tokenId: replaced.tokenId, change: 'token_replaced' },
    ]);

    const unchanged = await startWith(second);
    expect(unchanged.entries).toHaveLength(2);
  });
});
