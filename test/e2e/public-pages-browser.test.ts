import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ClientTestbed, startClientTestbed } from './client-support';
import { PUBLIC_TEXT, type PublicFixture, seedPublicFixture } from './public-pages-support';

/** What the test's code sees inside the page (the project compiles without the DOM library). */
interface PageGlobals {
  axe: typeof axe;
  document: { scripts: { length: number } };
}

/** Debian's chromium; `.ci/run` installs it (`apt-get install -y chromium`) when it is missing. */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the pages as the browser drew them (gitignored). */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'public-pages');

/**
 * A real browser against a tenant: a web client on another origin reads a timeline through the API
 * (CORS, with a bearer token), and the public profile and status pages render with JavaScript off and
 * pass axe-core's WCAG 2.1 A/AA and best-practice rules.
 */
describe('public pages in a browser', () => {
  let bed: ClientTestbed;
  let f: PublicFixture;
  let browser: Browser;
  let clientSite: Server;
  let clientOrigin: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    bed = await startClientTestbed([
      {
        slug: 'browser',
        domain: 'social.browser.test',
        displayName: 'Water Authority',
        adminEmail: 'a@browser.example',
      },
    ]);
    f = await seedPublicFixture(bed, 'browser', 'social.browser.test');
    // The web client: a page on another loopback origin that calls the tenant's API from script.
    clientSite = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!DOCTYPE html><html lang="en"><head><title>Web client</title></head><body><main></main></body></html>',
      );
    });
    await new Promise<void>((resolve) => clientSite.listen(0, '127.0.0.1', resolve));
    clientOrigin = `http://127.0.0.1:${(clientSite.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Tenant domains under .test reach the test's server, as /etc/hosts would make them.
        '--host-resolver-rules=MAP *.test 127.0.0.1',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (clientSite ? clientSite.close(resolve) : resolve(undefined)));
    await bed?.close();
  });

  it('a web client on another origin reads the home timeline with a bearer token (CORS)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(clientOrigin);
      const answer = await page.evaluate(
        async ({ base, token }) => {
          const res = await fetch(`${base}/api/v1/timelines/home?limit=5`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as { id: string; content: string }[];
          return {
            status: res.status,
            ids: body.map((s) => s.id),
            link: res.headers.get('link'),
            requestId: res.headers.get('x-request-id'),
            remaining: res.headers.get('x-ratelimit-remaining'),
          };
        },
        { base: f.base, token: f.token },
      );
      expect(answer.status).toBe(200);
      expect(answer.ids).toContain(f.ids.publicPost);
      expect(answer.ids).toContain(f.ids.privatePost);
      // The headers Mastodon exposes are readable from script.
      expect(answer.link).toMatch(/rel="next"/);
      expect(answer.requestId).toEqual(expect.any(String));
      expect(answer.remaining).toMatch(/^\d+$/);
      await page.screenshot({ path: join(ARTIFACTS, 'web-client.png') });
    } finally {
      await context.close();
    }
  });

  /**
   * A page with JavaScript off (what the reader gets), and axe-core's audit of the same page. The audit
   * runs in a context of its own with script on, since axe needs timers the switch stops; the page itself
   * has no script, so both contexts draw the same document.
   */
  async function renderAndAudit(
    path: string,
    shot: string,
  ): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB' });
    const page = await context.newPage();
    const res = await page.goto(`${f.base}${path}`);
    expect(res?.status()).toBe(200);
    await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: true });

    const auditContext = await browser.newContext({ locale: 'en-GB' });
    try {
      const audited = await auditContext.newPage();
      await audited.goto(`${f.base}${path}`);
      expect(
        await audited.evaluate(() => (globalThis as unknown as PageGlobals).document.scripts.length),
      ).toBe(0);
      await audited.evaluate(axe.source);
      const results = await audited.evaluate(() =>
        (globalThis as unknown as PageGlobals).axe.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        }),
      );
      const violations = results.violations.map((v) => ({
        id: v.id,
        help: v.help,
        nodes: v.nodes.map((n) => n.html).slice(0, 3),
      }));
      expect({ path, violations }).toEqual({ path, violations: [] });
      // The audit looked at the page's content, not at an empty document.
      expect(results.passes.map((p) => p.id)).toEqual(
        expect.arrayContaining([
          'color-contrast',
          'html-has-lang',
          'landmark-one-main',
          'page-has-heading-one',
        ]),
      );
    } finally {
      await auditContext.close();
    }
    return { page, close: () => context.close() };
  }

  it('the profile page renders without JavaScript and has no accessibility violations', async () => {
    const { page, close } = await renderAndAudit('/@ministry', 'profile');
    try {
      await expect(page.locator('h1').textContent()).resolves.toBe('Ministry of Water');
      await expect(page.locator('main article').count()).resolves.toBe(2);
      await expect(page.locator('main').textContent()).resolves.toContain(
        'Flood warning for the river valley',
      );
    } finally {
      await close();
    }
  });

  it('the status page renders without JavaScript, with its image described, and has no accessibility violations', async () => {
    const { page, close } = await renderAndAudit(`/@ministry/${f.ids.publicPost}`, 'status');
    try {
      await expect(page.locator('main img').getAttribute('alt')).resolves.toBe(PUBLIC_TEXT.imageDescription);
      await expect(page.locator('main').textContent()).resolves.toContain(PUBLIC_TEXT.publicReply);
      // The inline stylesheet is allowed by its hash: the skip link is moved off screen.
      const skip = await page.locator('a.skip').boundingBox();
      expect(skip!.x).toBeLessThan(0);
      // Keyboard: the first Tab lands on the skip link, which then shows.
      await page.keyboard.press('Tab');
      const focused = await page.locator('a.skip').boundingBox();
      expect(focused!.x).toBeGreaterThanOrEqual(0);
    } finally {
      await close();
    }
  });

  it('the home page has no accessibility violations', async () => {
    const { close } = await renderAndAudit('/', 'home');
    await close();
  });
});
