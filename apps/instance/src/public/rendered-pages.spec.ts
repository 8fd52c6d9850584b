import { type RenderedPage, RenderedPages } from './rendered-pages';

const page = (body: string): RenderedPage => ({ status: 200, headers: {}, body });

describe('RenderedPages', () => {
  it('renders a page once for readers who ask at the same time, and reuses it until it expires', async () => {
    let now = 1_000;
    const pages = new RenderedPages(5_000, 10, () => now);
    let renders = 0;
    const render = async () => page(`v${++renders}`);
    const [a, b] = await Promise.all([pages.get('k', render), pages.get('k', render)]);
    expect([a.body, b.body, renders]).toEqual(['v1', 'v1', 1]);
    now += 4_999;
    expect((await pages.get('k', render)).body).toBe('v1');
    now += 1;
    // Stale now: served as it was while it is rendered again.
    expect((await pages.get('k', render)).body).toBe('v1');
    expect((await pages.get('k', render)).body).toBe('v2');
    expect(renders).toBe(2);
  });

  it('keeps no failed rendering', async () => {
    const pages = new RenderedPages();
    await expect(pages.get('k', () => Promise.reject(new Error('database down')))).rejects.toThrow(
      'database down',
    );
    expect((await pages.get('k', async () => page('ok'))).body).toBe('ok');
  });

  it('keeps at most its bound, forgetting the oldest first', async () => {
    const pages = new RenderedPages(60_000, 2);
    let renders = 0;
    const render = async () => page(`v${++renders}`);
    await pages.get('a', render);
    await pages.get('b', render);
    await pages.get('c', render);
    expect((await pages.get('c', render)).body).toBe('v3');
    expect((await pages.get('a', render)).body).toBe('v4');
  });
});

describe('RenderedPages when a page is stale', () => {
  it('serves the stale page while one rendering refreshes it, then the new one', async () => {
    let now = 0;
    const pages = new RenderedPages(5_000, 10, () => now);
    await pages.get('k', async () => page('v1'));
    now = 6_000;
    let finish!: (p: RenderedPage) => void;
    let renders = 0;
    const slow = () => {
      renders++;
      return new Promise<RenderedPage>((resolve) => (finish = resolve));
    };
    expect((await pages.get('k', slow)).body).toBe('v1');
    expect((await pages.get('k', slow)).body).toBe('v1');
    expect(renders).toBe(1);
    finish(page('v2'));
    await Promise.resolve();
    await Promise.resolve();
    expect((await pages.get('k', slow)).body).toBe('v2');
  });

  it('makes the reader wait for a page older than twice its time', async () => {
    let now = 0;
    const pages = new RenderedPages(5_000, 10, () => now);
    await pages.get('k', async () => page('v1'));
    now = 10_000;
    expect((await pages.get('k', async () => page('v2'))).body).toBe('v2');
  });

  it('keeps serving the stale page when a refresh fails, and tries again', async () => {
    let now = 0;
    const pages = new RenderedPages(5_000, 10, () => now);
    await pages.get('k', async () => page('v1'));
    now = 6_000;
    expect((await pages.get('k', () => Promise.reject(new Error('down')))).body).toBe('v1');
    await new Promise((r) => setImmediate(r));
    expect((await pages.get('k', async () => page('v3'))).body).toBe('v1');
    await new Promise((r) => setImmediate(r));
    expect((await pages.get('k', async () => page('v4'))).body).toBe('v3');
  });
});

describe('RenderedPages bounds', () => {
  it('renders an expired page once for readers who ask while it is rendered', async () => {
    let now = 0;
    const pages = new RenderedPages(5_000, 10, () => now);
    await pages.get('k', async () => page('v1'));
    now = 20_000;
    let renders = 0;
    const render = async () => page(`v${++renders + 1}`);
    const answers = await Promise.all([pages.get('k', render), pages.get('k', render)]);
    expect(answers.map((a) => a.body)).toEqual(['v2', 'v2']);
    expect(renders).toBe(1);
  });

  it('keeps at most its size in characters, forgetting the oldest first', async () => {
    const pages = new RenderedPages(60_000, 100, Date.now, 10);
    let renders = 0;
    const render = async () => page(`${++renders}`.padEnd(6, '.'));
    await pages.get('a', render);
    await pages.get('b', render);
    // a (6) + b (6) > 10: a was forgotten, b kept.
    expect((await pages.get('b', render)).body).toBe('2.....');
    expect((await pages.get('a', render)).body).toBe('3.....');
  });
});
