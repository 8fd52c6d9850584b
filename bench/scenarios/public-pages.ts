import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from '../support/machine';
import { call, requireWrk, runWrk, startBareServer, startBenchPlatform } from '../support/platform-process';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';
import { tenantClient, wrkRow } from './social';

/**
 * A tenant's public status page under load, as a CDN miss or a reader without a CDN meets it: the
 * all-in-one process with N tenants, one organisation account whose public status has a thread of R
 * public replies, the page `/@name/:id` fetched by wrk over C connections beside a bare node:http
 * server answering the same bytes in the same run, and the tenant's `/api/v1/instance` (a document kept in
 * memory) as the reference for what the request path and the machine's load cost at that moment.
 */
export const publicPagesScenario: Scenario = {
  name: 'public-pages',
  description:
    'A public status page with its thread under C connections, beside a bare node:http server answering the same HTML (wrk)',
  options: [
    { name: 'tenants', kind: 'int', default: 100, min: 1, max: 5000, description: 'tenants provisioned' },
    {
      name: 'replies',
      kind: 'int',
      default: 10,
      min: 0,
      max: 200,
      description: 'public replies in the thread',
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
  run: runPublicPagesBench,
};

const GOALS = { rps: 3000, p99Ms: 30 };

async function runPublicPagesBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const seconds = options.int('seconds');
  const connections = options.int('connections');
  await requireWrk();
  const bench = await startBenchPlatform('public-pages', options.int('tenants'), log);
  const machine = await machineInfo(bench.db.url);
  try {
    const tenant = bench.tenants[0];
    const token = await seedSpokesperson(bench.db.url, tenant.id);
    const post = async (body: Record<string, unknown>): Promise<string> => {
      const res = await call(`${bench.base}/api/v1/statuses`, {
        method: 'POST',
        host: tenant.domain,
        token,
        body: JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`post: ${res.status} ${res.text.slice(0, 200)}`);
      return (JSON.parse(res.text) as { id: string }).id;
    };
    log(`posting a public status and ${options.int('replies')} public replies on ${tenant.domain}`);
    const id = await post({
      status: 'Public notice: the river crossing reopens on Monday at 06:00. #roads #bench',
      visibility: 'public',
      language: 'en',
    });
    let parent = id;
    for (let i = 1; i <= options.int('replies'); i++) {
      parent = await post({
        status: `Update ${i}: crews on site, see the map on our website.`,
        visibility: 'public',
        in_reply_to_id: parent,
      });
    }
    const path = `/@spokesperson/${id}`;
    const sample = await call(`${bench.base}${path}`, { host: tenant.domain });
    if (sample.status !== 200) throw new Error(`${path}: ${sample.status} ${sample.text.slice(0, 200)}`);
    const barePort = await startBareServer(bench, sample.text);
    const script = join(bench.work, 'page.lua');
    writeFileSync(
      script,
      `wrk.headers["Host"] = "${tenant.domain}"\nwrk.headers["Accept-Language"] = "en"\n`,
    );

    log(
      `wrk ${path}: bare node:http with the same ${sample.text.length} bytes, then Townhall (${seconds} s each, ${connections} connections)`,
    );
    const bare = await runWrk(`http://127.0.0.1:${barePort}/`, { connections, seconds });
    const page = await runWrk(`${bench.base}${path}`, { connections, seconds, script });
    // Slow answers (wrk's 2 s timeout) are a result to report, not a failure; wrong answers are.
    if (page.non2xx > 0) throw new Error(`status page: ${page.non2xx} non-2xx answers`);
    // The same request path with a response kept in memory (the instance document): what the machine and
    // the platform's hooks cost at this moment, so the page's own share can be told from the load's.
    const instance = await runWrk(`${bench.base}/api/v1/instance`, { connections, seconds, script });
    const ratio = page.requestsPerSecond / bare.requestsPerSecond;
    const rows: ResultRow[] = [
      wrkRow(`bare node:http, same ${sample.text.length}-byte page`, bare),
      wrkRow(
        `status page with ${options.int('replies')} replies`,
        page,
        `${(ratio * 100).toFixed(1)} % of bare${page.errors ? `; socket errors: ${page.errors}` : ''}`,
      ),
      wrkRow(
        '/api/v1/instance (in memory), same run',
        instance,
        `${((instance.requestsPerSecond / bare.requestsPerSecond) * 100).toFixed(1)} % of bare${instance.errors ? `; socket errors: ${instance.errors}` : ''}`,
      ),
    ];
    const met = page.requestsPerSecond >= GOALS.rps && page.p99Ms <= GOALS.p99Ms;
    return {
      rows,
      conclusions: [
        `status page: ${Math.round(page.requestsPerSecond)} req/s (goal ≥ ${GOALS.rps}), p99 ${page.p99Ms} ms (goal ≤ ${GOALS.p99Ms} ms), ${(ratio * 100).toFixed(1)} % of bare: ${met ? 'met' : 'NOT met'}`,
      ],
      data: {
        seconds,
        connections,
        replies: options.int('replies'),
        bytes: sample.text.length,
        bare,
        page,
        instance,
      },
      machine,
    };
  } finally {
    await bench.close(options.flag('keep'));
  }
}

/** The organisation's account with a login and a token, written as the application stores them. */
async function seedSpokesperson(url: string, tenantId: string): Promise<string> {
  const client = await tenantClient(url, tenantId);
  try {
    const token = randomBytes(24).toString('base64url');
    await client.query('BEGIN');
    const [{ id }] = (
      await client.query<{ id: string }>(
        `INSERT INTO accounts (username, display_name, actor_type, uri)
         VALUES ('spokesperson', 'Roads Agency', 'Organization', 'https://bench.example/users/spokesperson')
         RETURNING id::text`,
      )
    ).rows;
    await client.query(
      `INSERT INTO users (account_id, email, role, confirmed_at) VALUES ($1, 'spokesperson@bench.example', 'staff', now())`,
      [id],
    );
    await client.query(
      `INSERT INTO oauth_access_tokens (token_hash, user_id, scopes)
       SELECT $1, u.id, 'read write' FROM users u WHERE u.account_id = $2`,
      [createHash('sha256').update(token, 'utf8').digest(), id],
    );
    await client.query('COMMIT');
    return token;
  } finally {
    await client.end();
  }
}
