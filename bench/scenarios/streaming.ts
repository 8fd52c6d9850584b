import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { machineInfo } from '../support/machine';
import { call, rssMiB, startBenchPlatform } from '../support/platform-process';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';
import { round } from '../support/stats';
import { tenantClient } from './social';

/**
 * A new status reaching many streaming clients, on the all-in-one process over loopback: C WebSocket
 * clients of one tenant, each its own account following one poster (`--stream user`, the home stream:
 * one Redis channel per client) or all on `public:local` (one channel for all). The poster posts P
 * statuses one after the other; each client's delivery latency is the time from the creating
 * request's answer to that client's `update` message, measured in this process with one clock.
 */
export const streamingScenario: Scenario = {
  name: 'streaming',
  description: 'Delivery latency of a new status to C connected streaming clients (WebSocket)',
  options: [
    { name: 'clients', kind: 'int', default: 1000, min: 1, max: 10000, description: 'streaming clients' },
    {
      name: 'posts',
      kind: 'int',
      default: 20,
      min: 1,
      max: 1000,
      description: 'statuses posted, one at a time',
    },
    {
      name: 'stream',
      kind: 'string',
      default: 'user',
      description: 'what the clients stream: user (each follows the poster) or public:local',
    },
  ],
  run: runStreamingBench,
};

const GOAL_P99_MS = 100;
/** The statuses after these show the process warmed up (JIT, plans, pools); reported beside all of them. */
const STEADY_AFTER = 5;

async function runStreamingBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const clients = options.int('clients');
  const posts = options.int('posts');
  const stream = options.string('stream');
  if (stream !== 'user' && stream !== 'public:local')
    throw new Error(`--stream must be user or public:local, not ${stream}`);
  const bench = await startBenchPlatform('streaming', 1, log);
  const machine = await machineInfo(bench.db.url);
  const redis = new Redis(bench.env.REDIS_URL!);
  const sockets: WebSocket[] = [];
  try {
    const tenant = bench.tenants[0];
    const seeded = await seed(bench.db.url, tenant.id, clients);
    log(`seeded a poster and ${clients} readers following it`);

    const url = `${bench.base.replace(/^http/, 'ws')}/api/v1/streaming?stream=${stream}`;
    const arrivals = new Map<string, number[]>();
    let expecting: { id: Buffer; key: string } | null = null;
    const closes: number[] = [];
    const refusals: string[] = [];
    const connectStarted = performance.now();
    for (let i = 0; i < clients; i += 100) {
      const batch = seeded.readerTokens.slice(i, i + 100).map(
        (token) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(url, {
              headers: { host: tenant.domain, authorization: `Bearer ${token}` },
            });
            ws.on('close', (code: number) => closes.push(code));
            ws.on('message', (data: Buffer) => {
              const at = performance.now();
              if (data.includes('"error"')) refusals.push(data.toString());
              const want = expecting;
              // The payload is a JSON string inside JSON, so the id appears as \"id\":\"…\".
              if (want && data.includes('"event":"update"') && data.includes(want.id))
                arrivals.get(want.key)!.push(at);
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    const connectMs = performance.now() - connectStarted;
    log(
      `${clients} clients connected in ${(connectMs / 1000).toFixed(1)} s; waiting for their subscriptions`,
    );
    const channels =
      stream === 'user'
        ? seeded.readerIds.map((id) => `${bench.env.TOWNHALL_REDIS_PREFIX}:timeline:${tenant.id}:${id}`)
        : [`${bench.env.TOWNHALL_REDIS_PREFIX}:timeline:${tenant.id}:public:local`];
    // One Redis subscription per home channel; for public:local, one for the whole process (the first
    // status then shows that every client is attached: warm-up repeats until one reaches them all).
    const wanted = channels.length;
    for (const deadline = Date.now() + 60_000; ;) {
      const counts = (await redis.pubsub('NUMSUB', ...channels)) as (string | number)[];
      const listening = counts.filter((_, i) => i % 2 === 1).reduce((a: number, n) => a + Number(n), 0);
      if (listening >= wanted) break;
      if (Date.now() > deadline)
        throw new Error(
          `only ${listening} of ${wanted} subscriptions after 60 s; ${closes.length} clients closed (${closes.slice(0, 5).join(', ')}); refused: ${refusals.slice(0, 3).join(' ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const rssConnected = rssMiB(bench.platform.pid!);

    const latencies: number[] = [];
    const steady: number[] = [];
    const perPost: { min: number; p50: number; p99: number; max: number; delivered: number }[] = [];
    let missed = 0;
    let warmups = 0;
    for (let i = -1; i < posts; i++) {
      const key = `post-${i}-${warmups}`;
      arrivals.set(key, []);
      // The id is known only from the answer: every message is kept and matched by text after it.
      const pending: { at: number; data: string }[] = [];
      expecting = null;
      const collector = (data: Buffer) => pending.push({ at: performance.now(), data: data.toString() });
      for (const ws of sockets) ws.on('message', collector);
      const res = await call(`${bench.base}/api/v1/statuses`, {
        method: 'POST',
        host: tenant.domain,
        token: seeded.posterToken,
        body: JSON.stringify({ status: `Bench statement ${i} ${randomBytes(4).toString('hex')}` }),
      });
      const answeredAt = performance.now();
      if (res.status !== 200) throw new Error(`posting: ${res.status} ${res.text.slice(0, 200)}`);
      const id = (JSON.parse(res.text) as { id: string }).id;
      expecting = { id: Buffer.from(`\\"id\\":\\"${id}\\"`), key };
      const early = pending.filter((p) => p.data.includes(`\\"id\\":\\"${id}\\"`)).map((p) => p.at);
      for (const ws of sockets) ws.off('message', collector);
      arrivals.get(key)!.push(...early);
      const deadline = Date.now() + 10_000;
      while (arrivals.get(key)!.length < clients && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expecting = null;
      const got = arrivals.get(key)!.map((at) => at - answeredAt);
      if (i < 0) {
        // Warm-up statuses are not counted; they repeat until one reached every client.
        if (got.length < clients && ++warmups < 10) i--;
        continue;
      }
      missed += clients - got.length;
      latencies.push(...got);
      if (i >= STEADY_AFTER) steady.push(...got);
      const sorted = [...got].sort((a, b) => a - b);
      perPost.push({
        min: round(sorted[0] ?? NaN),
        p50: round(percentile(sorted, 50)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted[sorted.length - 1] ?? NaN),
        delivered: got.length,
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const steadySorted = [...steady].sort((a, b) => a - b);
    const p50 = round(percentile(sorted, 50));
    const p95 = round(percentile(sorted, 95));
    const p99 = round(percentile(sorted, 99));
    const max = round(sorted[sorted.length - 1] ?? NaN);
    const rows: ResultRow[] = [
      {
        measurement: `update delivered to ${clients} ${stream} streams, from the POST's answer`,
        n: latencies.length,
        p50,
        p95,
        p99,
        max,
        note: `${posts} statuses; ${missed} deliveries missed`,
      },
      {
        measurement: `the same, statuses ${STEADY_AFTER + 1}–${posts} only`,
        n: steady.length,
        p50: round(percentile(steadySorted, 50)),
        p95: round(percentile(steadySorted, 95)),
        p99: round(percentile(steadySorted, 99)),
        max: round(steadySorted[steadySorted.length - 1] ?? NaN),
      },
      {
        measurement: 'connecting the clients (100 at a time)',
        n: clients,
        note: `${(connectMs / 1000).toFixed(1)} s`,
      },
      { measurement: `all-in-one RSS with ${clients} connections`, n: 1, note: `${rssConnected} MiB` },
    ];
    const load = machine.loadAverage.join(' / ');
    const conclusions = [
      `delivery p99 ${p99} ms (goal ≤ ${GOAL_P99_MS} ms): ${p99 <= GOAL_P99_MS && missed === 0 ? 'met' : 'NOT met'}; after status ${STEADY_AFTER}: p99 ${round(percentile(steadySorted, 99))} ms`,
      `load average at the start (1 / 5 / 15 min): ${load}; the clients run in this process on the same machine`,
    ];
    return {
      rows,
      conclusions,
      data: { clients, posts, stream, p50, p95, p99, max, missed, perPost, connectMs, rssConnected },
      machine,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    redis.disconnect();
    await bench.close(options.flag('keep'));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A poster and `readers` accounts following it, with tokens, written in bulk SQL (not measured). */
async function seed(
  url: string,
  tenantId: string,
  readers: number,
): Promise<{ posterToken: string; readerTokens: string[]; readerIds: string[] }> {
  const client = await tenantClient(url, tenantId);
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO accounts (username, uri)
       SELECT 'stream_' || g, 'https://bench.example/users/stream_' || g FROM generate_series(0, $1) g`,
      [readers],
    );
    await client.query(
      `INSERT INTO users (account_id, email, role, confirmed_at)
       SELECT id, username || '@bench.example', 'user', now() FROM accounts WHERE username LIKE 'stream\\_%'`,
    );
    const ids = (
      await client.query<{ id: string; username: string }>(
        `SELECT id::text, username FROM accounts WHERE username LIKE 'stream\\_%' ORDER BY id`,
      )
    ).rows;
    const poster = ids.find((r) => r.username === 'stream_0')!.id;
    const readerIds = ids.filter((r) => r.id !== poster).map((r) => r.id);
    await client.query(
      `INSERT INTO account_relations (kind, account_id, target_account_id) SELECT 0, r, $1 FROM unnest($2::bigint[]) r`,
      [poster, readerIds],
    );
    await client.query(`UPDATE accounts SET followers_count = $2 WHERE id = $1`, [poster, readerIds.length]);
    const all = [poster, ...readerIds];
    const tokens = all.map(() => randomBytes(24).toString('base64url'));
    await client.query(
      `INSERT INTO oauth_access_tokens (token_hash, user_id, scopes)
       SELECT t.hash, u.id, 'read write follow'
         FROM unnest($1::bytea[], $2::bigint[]) AS t(hash, account_id) JOIN users u ON u.account_id = t.account_id`,
      [tokens.map((t) => createHash('sha256').update(t, 'utf8').digest()), all],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
    return { posterToken: tokens[0], readerTokens: tokens.slice(1), readerIds };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
