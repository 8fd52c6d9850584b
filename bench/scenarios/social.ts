import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { machineInfo } from '../support/machine';
import {
  backendMemory,
  call,
  requireWrk,
  rssMiB,
  runWrk,
  startBareServer,
  startBenchPlatform,
  type WrkResult,
} from '../support/platform-process';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';

/**
 * The Mastodon client API under load, on real processes over loopback: the all-in-one process with N
 * tenants, one of which holds a realistic feed — A accounts with 20 statuses each, R readers following
 * 100–1,000 of them (their home feeds as fan-out would have left them, the newest 800 each), and P
 * posters each followed by 100 local accounts. Measured with wrk: home timeline reads by random
 * readers beside a bare node:http server answering the same JSON, and status creation by random
 * posters (each new status fanned out to 100 home feeds in its transaction). Then the process's RSS
 * once idle.
 */
export const socialScenario: Scenario = {
  name: 'social',
  description:
    'Home timeline reads and status creation with fan-out on a tenant with a realistic feed, among N tenants (wrk)',
  options: [
    { name: 'tenants', kind: 'int', default: 1000, min: 1, max: 5000, description: 'tenants provisioned' },
    {
      name: 'accounts',
      kind: 'int',
      default: 1000,
      min: 200,
      max: 20000,
      description: 'accounts with 20 statuses each',
    },
    {
      name: 'readers',
      kind: 'int',
      default: 100,
      min: 1,
      max: 1000,
      description: 'readers whose home is read',
    },
    {
      name: 'posters',
      kind: 'int',
      default: 100,
      min: 1,
      max: 1000,
      description: 'posters, each with 100 local followers',
    },
    {
      name: 'seconds',
      kind: 'int',
      default: 10,
      min: 1,
      max: 300,
      description: 'wrk duration per measurement',
    },
    { name: 'connections', kind: 'int', default: 100, min: 1, max: 1000, description: 'wrk connections' },
  ],
  run: runSocialBench,
};

const GOALS = { homeRps: 5000, homeP99Ms: 25, postsPerSecond: 1000, idleRssMiB: 300 };
const STATUSES_PER_ACCOUNT = 20;
const FEED_LIMIT = 800;

async function runSocialBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const seconds = options.int('seconds');
  const connections = options.int('connections');
  await requireWrk();
  const bench = await startBenchPlatform('social', options.int('tenants'), log);
  const machine = await machineInfo(bench.db.url);
  try {
    const tenant = bench.tenants[0];
    log(`seeding ${tenant.domain}: accounts, follows, statuses, home feeds …`);
    const seeded = await seed(bench.db.url, tenant.id, {
      accounts: options.int('accounts'),
      readers: Math.min(options.int('readers'), options.int('accounts')),
      posters: options.int('posters'),
    });
    log(
      `seeded ${seeded.statuses} statuses, ${seeded.follows} follows, ${seeded.feedRows} home feed rows in ${seeded.seconds.toFixed(1)} s`,
    );

    const origin = bench.base;
    const sample = await call(`${origin}/api/v1/timelines/home`, {
      host: tenant.domain,
      token: seeded.readerTokens[0],
    });
    if (sample.status !== 200)
      throw new Error(`home timeline: ${sample.status} ${sample.text.slice(0, 200)}`);
    const barePort = await startBareServer(bench, sample.text);

    const readersLua = join(bench.work, 'readers.lua');
    writeFileSync(readersLua, tokenScript(seeded.readerTokens, tenant.domain, 'GET', null));
    const postersLua = join(bench.work, 'posters.lua');
    writeFileSync(
      postersLua,
      tokenScript(seeded.posterTokens, tenant.domain, 'POST', 'status=Bench+statement+'),
    );

    log(
      `wrk home timeline: bare node:http with the same ${sample.text.length}-byte JSON, then Townhall (${seconds} s each, ${connections} connections)`,
    );
    const bare = await runWrk(`http://127.0.0.1:${barePort}/`, { connections, seconds });
    const home = await runWrk(`${origin}/api/v1/timelines/home`, {
      connections,
      seconds,
      script: readersLua,
    });
    check('home timeline', home);
    log(`wrk status creation by ${seeded.posterTokens.length} posters with 100 local followers each`);
    const before = await countStatuses(bench.db.url, tenant.id);
    const posts = await runWrk(`${origin}/api/v1/statuses`, { connections, seconds, script: postersLua });
    check('status creation', posts);
    const created = (await countStatuses(bench.db.url, tenant.id)) - before;

    log('idle for 15 s, then the process RSS');
    await new Promise((r) => setTimeout(r, 15_000));
    const rss = rssMiB(bench.platform.pid!);
    const backends = await backendMemory(bench.db.url);

    const ratio = home.requestsPerSecond / bare.requestsPerSecond;
    const rows: ResultRow[] = [
      wrkRow(`bare node:http, same ${sample.text.length}-byte JSON`, bare),
      wrkRow(
        `home timeline, random of ${seeded.readerTokens.length} readers`,
        home,
        `${(ratio * 100).toFixed(1)} % of bare`,
      ),
      wrkRow('status creation, fan-out to 100 home feeds', posts, `${created} statuses written`),
      { measurement: 'all-in-one RSS, idle after the run', n: 1, note: `${rss} MiB` },
      {
        measurement: 'PostgreSQL backends of the app pool',
        n: backends.count,
        note: `${backends.totalMiB} MiB private in all, largest ${backends.maxMiB} MiB`,
      },
    ];
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const conclusions = [
      `home timeline: ${Math.round(home.requestsPerSecond)} req/s (goal ≥ ${GOALS.homeRps}), p99 ${home.p99Ms} ms (goal ≤ ${GOALS.homeP99Ms} ms), ${(ratio * 100).toFixed(1)} % of bare: ${verdict(home.requestsPerSecond >= GOALS.homeRps && home.p99Ms <= GOALS.homeP99Ms)}`,
      `status creation: ${Math.round(posts.requestsPerSecond)} statuses/s (goal ≥ ${GOALS.postsPerSecond}), p99 ${posts.p99Ms} ms: ${verdict(posts.requestsPerSecond >= GOALS.postsPerSecond)}`,
      `idle RSS: ${rss} MiB (goal ≤ ${GOALS.idleRssMiB} MiB): ${verdict(rss <= GOALS.idleRssMiB)}`,
    ];
    return {
      rows,
      conclusions,
      data: {
        seeded: { ...seeded, readerTokens: undefined, posterTokens: undefined },
        bare,
        home,
        posts,
        created,
        rssMiB: rss,
        backends,
      },
      machine,
    };
  } finally {
    await bench.close(options.flag('keep'));
  }
}

export function check(what: string, r: WrkResult): void {
  if (r.non2xx > 0 || r.errors)
    throw new Error(`${what}: ${r.non2xx} non-2xx answers, socket errors: ${r.errors ?? 'none'}`);
}

export function wrkRow(measurement: string, r: WrkResult, note?: string): ResultRow {
  return {
    measurement,
    n: r.requests,
    p50: r.p50Ms,
    p99: r.p99Ms,
    rate: `${Math.round(r.requestsPerSecond)}/s`,
    note,
  };
}

/** A wrk script that sends each request with a random token of `tokens` to the tenant's Host. */
function tokenScript(
  tokens: string[],
  host: string,
  method: 'GET' | 'POST',
  bodyPrefix: string | null,
): string {
  return [
    `local tokens = { ${tokens.map((t) => `"${t}"`).join(', ')} }`,
    'local n = 0',
    'request = function()',
    '  n = n + 1',
    `  local headers = { Host = "${host}", Authorization = "Bearer " .. tokens[math.random(#tokens)] }`,
    bodyPrefix === null
      ? `  return wrk.format("${method}", nil, headers, nil)`
      : `  headers["Content-Type"] = "application/x-www-form-urlencoded"\n  return wrk.format("${method}", nil, headers, "${bodyPrefix}" .. n .. "+" .. math.random(1000000000))`,
    'end',
  ].join('\n');
}

/** A connection whose search path is the tenant's schema, for seeding in bulk. */
export async function tenantClient(url: string, tenantId: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ schema_name: string }>(
    `SELECT schema_name FROM platform.tenants WHERE id = $1`,
    [tenantId],
  );
  await client.query(`SET search_path TO ${rows[0].schema_name}, platform`);
  return client;
}

async function countStatuses(url: string, tenantId: string): Promise<number> {
  const client = await tenantClient(url, tenantId);
  try {
    return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM statuses`)).rows[0].n;
  } finally {
    await client.end();
  }
}

/**
 * Writes the tenant's data as the application would have left it, in bulk SQL (the seeding is not what
 * is measured): accounts with logins, statuses with time-ordered ids, follows with their counters, and
 * each reader's home feed holding the newest 800 statuses of the accounts it follows, as fan-out and
 * trimming keep it. Tokens are inserted as the token endpoint stores them (SHA-256).
 */
async function seed(
  url: string,
  tenantId: string,
  size: { accounts: number; readers: number; posters: number },
): Promise<{
  statuses: number;
  follows: number;
  feedRows: number;
  seconds: number;
  readerTokens: string[];
  posterTokens: string[];
}> {
  const started = Date.now();
  const client = await tenantClient(url, tenantId);
  try {
    await client.query('BEGIN');
    const domain =
      (
        await client.query<{ domain: string }>(
          `SELECT domain FROM platform.tenant_domains WHERE tenant_id = $1 LIMIT 1`,
          [tenantId],
        )
      ).rows[0]?.domain ?? 'bench.example';
    const total = size.accounts + size.posters;
    await client.query(
      `INSERT INTO accounts (username, uri)
       SELECT 'bench_' || g, 'https://' || $2 || '/users/bench_' || g FROM generate_series(1, $1) g`,
      [total, domain],
    );
    await client.query(
      `INSERT INTO users (account_id, email, role, confirmed_at)
       SELECT id, username || '@bench.example', 'staff', now() FROM accounts WHERE username LIKE 'bench\\_%'`,
    );
    const ids = (
      await client.query<{ id: string }>(
        `SELECT id::text FROM accounts WHERE username LIKE 'bench\\_%' ORDER BY id`,
      )
    ).rows.map((r) => r.id);
    const authors = ids.slice(0, size.accounts);
    const readers = authors.slice(0, size.readers);
    const posters = ids.slice(size.accounts);

    // 20 statuses per author, interleaved in time as a real feed would be.
    await client.query(
      `INSERT INTO statuses (account_id, local, text, content, visibility, created_at)
       SELECT a.id, true, 'Statement ' || n || ' of ' || a.username, '<p>Statement ' || n || ' of ' || a.username || '</p>', 0,
              now() - make_interval(mins => ($2 - n) * 60)
         FROM generate_series(1, $2) n CROSS JOIN accounts a WHERE a.id = ANY($1::bigint[])
        ORDER BY n, a.id`,
      [authors, STATUSES_PER_ACCOUNT],
    );
    // Readers follow 100–1,000 random authors (at most all the others).
    let follows = 0;
    for (const reader of readers) {
      const count = Math.min(authors.length - 1, 100 + Math.floor(Math.random() * 901));
      const { rowCount } = await client.query(
        `INSERT INTO account_relations (kind, account_id, target_account_id)
         SELECT 0, $1, a FROM unnest($2::bigint[]) a WHERE a <> $1 ORDER BY random() LIMIT $3`,
        [reader, authors, count],
      );
      follows += rowCount ?? 0;
    }
    // Each poster is followed by 100 local accounts (readers first).
    const followersOfPosters = authors.slice(0, Math.min(100, authors.length));
    for (const poster of posters) {
      const { rowCount } = await client.query(
        `INSERT INTO account_relations (kind, account_id, target_account_id) SELECT 0, f, $1 FROM unnest($2::bigint[]) f`,
        [poster, followersOfPosters],
      );
      follows += rowCount ?? 0;
    }
    await client.query(
      `UPDATE accounts a SET following_count = (SELECT count(*) FROM account_relations r WHERE r.kind = 0 AND r.account_id = a.id),
                             followers_count = (SELECT count(*) FROM account_relations r WHERE r.kind = 0 AND r.target_account_id = a.id),
                             statuses_count = (SELECT count(*) FROM statuses s WHERE s.account_id = a.id)
        WHERE a.username LIKE 'bench\\_%'`,
    );
    const { rowCount: feedRows } = await client.query(
      `INSERT INTO home_feed (account_id, status_id)
       SELECT r.id, x.status_id FROM unnest($1::bigint[]) r(id)
       CROSS JOIN LATERAL (
         SELECT s.id AS status_id FROM statuses s
          WHERE s.account_id IN (SELECT target_account_id FROM account_relations f WHERE f.kind = 0 AND f.account_id = r.id)
             OR s.account_id = r.id
          ORDER BY s.id DESC LIMIT $2) x`,
      [readers, FEED_LIMIT],
    );
    const token = () => randomBytes(24).toString('base64url');
    const issue = async (accountIds: string[]) => {
      const tokens = accountIds.map(() => token());
      await client.query(
        `INSERT INTO oauth_access_tokens (token_hash, user_id, scopes)
         SELECT t.hash, u.id, 'read write follow'
           FROM unnest($1::bytea[], $2::bigint[]) AS t(hash, account_id) JOIN users u ON u.account_id = t.account_id`,
        [tokens.map((t) => createHash('sha256').update(t, 'utf8').digest()), accountIds],
      );
      return tokens;
    };
    const readerTokens = await issue(readers);
    const posterTokens = await issue(posters);
    await client.query('COMMIT');
    await client.query('ANALYZE');
    return {
      statuses: authors.length * STATUSES_PER_ACCOUNT,
      follows,
      feedRows: feedRows ?? 0,
      seconds: (Date.now() - started) / 1000,
      readerTokens,
      posterTokens,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
