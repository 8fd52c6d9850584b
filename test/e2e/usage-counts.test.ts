import { findTokenGrant } from '@townhall/auth';
import { TenantTransactions, tenantRef } from '@townhall/tenancy';
import { httpRequest } from '../support/http';
import { alphaTestbedForBlock, InstanceWithGateway } from './client-support';

/**
 * How much a tenant is used, as the Mastodon instance entity and NodeInfo publish it: users, local
 * statuses (boosts included, as Mastodon counts them) and users active in the last 4 and 24 weeks —
 * those one of whose tokens was issued or used then (real HTTP, PostgreSQL and Redis).
 */
describe('Usage counts of a tenant (real HTTP, PostgreSQL and Redis)', () => {
  // Counted afresh on every request here, so that what the test did shows at once.
  const alpha = alphaTestbedForBlock({ TOWNHALL_USAGE_CACHE_MS: '0' }, (config) =>
    InstanceWithGateway.forRoot(config),
  );

  async function usage() {
    const v1 = await alpha.call<{ stats: { user_count: number; status_count: number } }>(
      'GET',
      '/api/v1/instance',
      '',
    );
    const v2 = await alpha.call<{ usage: { users: { active_month: number } } }>(
      'GET',
      '/api/v2/instance',
      '',
    );
    const nodeinfo = await httpRequest(`${alpha.bed.base.alpha}/nodeinfo/2.1`);
    const node = nodeinfo.json<{
      usage: { users: { total: number; activeMonth: number; activeHalfyear: number }; localPosts: number };
    }>();
    return { v1: v1.body.stats, v2: v2.body.usage.users, node: node.usage };
  }

  it('counts users, local statuses with boosts, and users active in the last 4 and 24 weeks', async () => {
    const before = await usage();
    await alpha.bed.account('alpha', 'counted_writer');
    await alpha.bed.account('alpha', 'counted_reader');
    const dormant = await alpha.bed.account('alpha', 'dormant');
    const writer = await alpha.bed.token('alpha', 'counted_writer');
    const reader = await alpha.bed.token('alpha', 'counted_reader');
    await alpha.bed.token('alpha', 'dormant');
    // The dormant user's token was issued and last used two months ago: active in 24 weeks, not in 4.
    await alpha.ds.query(
      `UPDATE "${alpha.schema}".oauth_access_tokens t SET created_at = now() - interval '9 weeks',
              last_used_at = now() - interval '9 weeks'
         FROM "${alpha.schema}".users u WHERE u.id = t.user_id AND u.account_id = $1`,
      [dormant.id],
    );
    const first = await alpha.call<{ id: string }>('POST', '/api/v1/statuses', writer, { status: 'One' });
    await alpha.call('POST', '/api/v1/statuses', writer, { status: 'Two' });
    expect((await alpha.call('POST', `/api/v1/statuses/${first.body.id}/reblog`, reader)).status).toBe(200);

    const after = await usage();
    expect(after.v1.user_count - before.v1.user_count).toBe(3);
    expect(after.v1.status_count - before.v1.status_count).toBe(3);
    expect(after.node.users.total).toBe(after.v1.user_count);
    expect(after.node.localPosts).toBe(after.v1.status_count);
    expect(after.node.users.activeMonth - before.node.users.activeMonth).toBe(2);
    expect(after.v2.active_month).toBe(after.node.users.activeMonth);
    expect(after.node.users.activeHalfyear - before.node.users.activeHalfyear).toBe(3);
  });

  it('notes a token’s use, at most once an hour', async () => {
    const user = await alpha.bed.account('alpha', 'returning');
    const token = await alpha.bed.token('alpha', 'returning');
    const lastUsed = async () =>
      (
        (await alpha.ds.query(
          `SELECT t.last_used_at FROM "${alpha.schema}".oauth_access_tokens t
             JOIN "${alpha.schema}".users u ON u.id = t.user_id WHERE u.account_id = $1`,
          [user.id],
        )) as { last_used_at: Date | null }[]
      )[0].last_used_at;
    const setLastUsed = (ago: string) =>
      alpha.ds.query(
        `UPDATE "${alpha.schema}".oauth_access_tokens t SET last_used_at = now() - $2::interval
           FROM "${alpha.schema}".users u WHERE u.id = t.user_id AND u.account_id = $1`,
        [user.id, ago],
      );
    // What the token guard does when its cache (a minute) misses: look the token up.
    const lookUp = () =>
      alpha.bed.app
        .get(TenantTransactions)
        .runIn(tenantRef(alpha.bed.tenants.alpha, 'social.alpha.test'), (m) => findTokenGrant(m, token));

    expect(await lastUsed()).toBeNull();
    expect((await alpha.call('GET', '/api/v1/accounts/verify_credentials', token)).status).toBe(200);
    expect(Date.now() - (await lastUsed())!.getTime()).toBeLessThan(60_000);
    // Within the hour, another look writes nothing; past it, the use is noted again.
    await setLastUsed('30 minutes');
    const recent = await lastUsed();
    expect((await lookUp())?.usable).toBe(true);
    expect(await lastUsed()).toEqual(recent);
    await setLastUsed('2 hours');
    expect((await lookUp())?.usable).toBe(true);
    expect(Date.now() - (await lastUsed())!.getTime()).toBeLessThan(60_000);
  });
});
