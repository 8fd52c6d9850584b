/** A page as it is sent: status, headers and body, the same for every reader who gets it. */
export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How long a rendered page is reused as it is, then while it is rendered again. */
export const RENDERED_PAGE_MS = 5_000;
/** At most this many pages, and this many characters of them (about 32 MB), per process. */
const MAX_PAGES = 5_000;
const MAX_CHARACTERS = 32 * 1024 * 1024;

/**
 * The public pages each process rendered in the last few seconds, by everything a page depends on.
 * A public page is the same for every reader of one language, and a popular one (a status an agency
 * just posted, linked from the news) is asked for by thousands at once: without this, each request
 * reads the status, its thread and their accounts again. Concurrent requests for a page being rendered
 * wait for that one rendering. A failed rendering is not kept.
 *
 * A page is fresh for `ttlMs`; for another `ttlMs` it is still served while one request renders it again
 * (stale-while-revalidate), so a busy page never makes its readers wait for the database: under load the
 * rendering's queries queue behind every other request in the event loop, and readers waiting for it
 * would wait that long too. A page older than twice `ttlMs` is rendered while its reader waits.
 *
 * The price: what changes (a deletion, an edit, a suspended account) reaches the page within 2 × ttlMs
 * (10 s), on top of the 15 s a CDN may keep it (Cache-Control). A suspended tenant is refused before
 * this cache is asked. Bounded in number and in size; the oldest entries are forgotten first.
 */
export class RenderedPages {
  private readonly pages = new Map<string, Entry>();
  private characters = 0;

  constructor(
    private readonly ttlMs = RENDERED_PAGE_MS,
    private readonly max = MAX_PAGES,
    private readonly now: () => number = Date.now,
    private readonly maxCharacters = MAX_CHARACTERS,
  ) {}

  get(key: string, render: () => Promise<RenderedPage>): Promise<RenderedPage> {
    const at = this.now();
    const known = this.pages.get(key);
    if (known && at < known.renderedAt + this.ttlMs) return known.page;
    if (known && known.settled && at < known.renderedAt + 2 * this.ttlMs) {
      if (!known.refreshing) {
        known.refreshing = true;
        // The reader gets the page as it was; the next readers get the new one once it is there.
        this.start(key, render, at, known).page.catch(() => undefined);
      }
      return known.page;
    }
    return this.start(key, render, at).page;
  }

  /** Renders a page; `stale`, if given, stays what readers get until the new page is there. */
  private start(key: string, render: () => Promise<RenderedPage>, at: number, stale?: Entry): Entry {
    const entry: Entry = { renderedAt: at, page: render(), settled: false, refreshing: false, size: 0 };
    if (!stale) this.keep(key, entry);
    entry.page.then(
      (rendered) => {
        entry.settled = true;
        this.keep(key, entry, rendered.body.length);
      },
      () => {
        if (this.pages.get(key) === entry) this.forget(key);
        else if (stale) stale.refreshing = false;
      },
    );
    return entry;
  }

  private keep(key: string, entry: Entry, size = 0): void {
    this.forget(key);
    entry.size = size;
    this.pages.set(key, entry);
    this.characters += entry.size;
    while (this.pages.size > this.max || (this.characters > this.maxCharacters && this.pages.size > 1)) {
      this.forget(this.pages.keys().next().value!);
    }
  }

  private forget(key: string): void {
    const entry = this.pages.get(key);
    if (!entry) return;
    this.pages.delete(key);
    this.characters -= entry.size;
  }
}

interface Entry {
  renderedAt: number;
  page: Promise<RenderedPage>;
  /** The rendering finished (successfully): the page may be served stale while it is rendered again. */
  settled: boolean;
  refreshing: boolean;
  /** Characters of the body, once rendered. */
  size: number;
}
