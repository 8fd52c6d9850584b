import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { StatusError } from '../statuses/status-errors';
import { queueFiltersChanged } from '../streaming/stream-events';
import { findVisibleStatuses } from '../statuses/status-records';
import { FILTER_ACTIONS, FILTER_CONTEXTS, type FilterAction, type FilterSummary } from './filter-matching';

export interface FilterKeywordRecord {
  id: string;
  keyword: string;
  wholeWord: boolean;
}

export interface FilterStatusRecord {
  id: string;
  statusId: string;
}

/** A filter with its keywords and statuses (Mastodon's Filter entity with its rules). */
export interface FilterRecord extends FilterSummary {
  keywords: FilterKeywordRecord[];
  statuses: FilterStatusRecord[];
}

/** A keyword with the filter it belongs to: what the deprecated v1 API calls a filter. */
export interface V1FilterRecord {
  keyword: FilterKeywordRecord;
  filter: FilterSummary;
}

/** One entry of `keywords_attributes[]`, Rails' nested attributes: add, change (with `id`) or remove. */
export interface KeywordAttributes {
  id?: string;
  /** null: sent empty. */
  keyword?: string | null;
  wholeWord?: boolean;
  destroy?: boolean;
}

/** A v2 filter's fields; absent ones keep their value (on creation, Mastodon's defaults). */
export interface FilterInput {
  /** null: sent empty. */
  title?: string | null;
  context?: string[];
  filterAction?: string;
  /** Seconds from now; null: never expires. */
  expiresIn?: number | null;
  keywords?: KeywordAttributes[];
}

export interface KeywordInput {
  keyword?: string | null;
  wholeWord?: boolean;
}

/** The deprecated v1 API's filter: one phrase, its filter's settings; `irreversible` means `hide`. */
export interface V1FilterInput {
  phrase?: string | null;
  context?: string[];
  irreversible?: boolean;
  wholeWord?: boolean;
  expiresIn?: number | null;
}

/**
 * Townhall's bounds, where Mastodon has none: every active filter is matched against every status a
 * viewer reads, so their number and size bound the work of every timeline page.
 */
export const FILTER_LIMITS = {
  filtersPerAccount: 100,
  keywordsPerFilter: 200,
  keywordsPerAccount: 1000,
  statusesPerFilter: 200,
  titleLength: 256,
  keywordLength: 512,
} as const;

/** Mastodon's message when a v1 change would alter a filter other keywords share (filters.errors). */
export const V1_SHARED_FILTER_ERROR =
  'These parameters cannot be changed from this application because they apply to more than one filter keyword. Use a more recent application or the web interface.';

const ID = /^\d{1,19}$/;

type FilterRow = {
  id: string;
  title: string;
  context: string[];
  action: FilterAction;
  expires_at: Date | null;
};

/** A filter's settings as they will be, checked before anything is written. */
interface FilterState {
  title: string | null;
  context: string[];
  action: string;
  expiry: { set: false } | { set: true; seconds: number | null };
}

/** What `keywords_attributes[]` asks for, resolved against the filter's keywords. */
interface KeywordPlan {
  add: { keyword: string; wholeWord: boolean }[];
  change: FilterKeywordRecord[];
  remove: string[];
}

/**
 * The viewer's filters (Mastodon's CustomFilter, CustomFilterKeyword, CustomFilterStatus) and the
 * deprecated v1 API mapped onto them as Mastodon maps it: a v1 filter is one keyword of a filter.
 * Every method acts for the signed-in account on its own filters only; another account's filter,
 * keyword or status is not found. Changes are checked whole before anything is written, with
 * Mastodon's messages, so a refused request changes nothing.
 */
@Injectable()
export class Filters {
  constructor(private readonly transactions: TenantTransactions) {}

  /** A change to an account's filters: its streams hear `filters_changed` once it commits. */
  private change<T>(accountId: string, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.transactions.run(async (m) => {
      const result = await work(m);
      queueFiltersChanged(m, accountId);
      return result;
    });
  }

  list(accountId: string): Promise<FilterRecord[]> {
    return this.transactions.run((m) => loadFilters(m, accountId));
  }

  get(accountId: string, id: string): Promise<FilterRecord> {
    return this.transactions.run((m) => ownFilter(m, accountId, id));
  }

  create(accountId: string, input: FilterInput): Promise<FilterRecord> {
    return this.change(accountId, async (m) => {
      const plan = planKeywords(input.keywords ?? [], []);
      const state = nextState(null, input);
      const problems = [...keywordPlanProblems(plan), ...filterProblems(state)];
      if (plan.add.length > FILTER_LIMITS.keywordsPerFilter) problems.push(tooManyKeywords());
      refuse([...problems, ...(await room(m, accountId, 1, plan.add.length))]);
      const id = await insertFilter(m, accountId, state);
      await applyKeywordPlan(m, id, plan);
      return ownFilter(m, accountId, id);
    });
  }

  update(accountId: string, id: string, input: FilterInput): Promise<FilterRecord> {
    return this.change(accountId, async (m) => {
      const current = await ownFilter(m, accountId, id, true);
      const plan = planKeywords(input.keywords ?? [], current.keywords);
      const state = nextState(current, input);
      const problems = [...keywordPlanProblems(plan), ...filterProblems(state)];
      const remaining = current.keywords.length - plan.remove.length + plan.add.length;
      if (plan.add.length > 0 && remaining > FILTER_LIMITS.keywordsPerFilter)
        problems.push(tooManyKeywords());
      const added = plan.add.length - plan.remove.length;
      refuse([...problems, ...(added > 0 ? await room(m, accountId, 0, added) : [])]);
      await updateFilter(m, id, state);
      await applyKeywordPlan(m, id, plan);
      return ownFilter(m, accountId, id);
    });
  }

  async remove(accountId: string, id: string): Promise<void> {
    if (!ID.test(id)) throw notFound();
    const removed = await this.change(accountId, async (m) =>
      changedRows(
        await m.query(`DELETE FROM filters WHERE id = $1 AND account_id = $2 RETURNING id`, [id, accountId]),
      ),
    );
    if (removed.length === 0) throw notFound();
  }

  keywords(accountId: string, filterId: string): Promise<FilterKeywordRecord[]> {
    return this.transactions.run(async (m) => (await ownFilter(m, accountId, filterId)).keywords);
  }

  addKeyword(accountId: string, filterId: string, input: KeywordInput): Promise<FilterKeywordRecord> {
    return this.change(accountId, async (m) => {
      const filter = await ownFilter(m, accountId, filterId, true);
      const keyword = input.keyword ?? '';
      const problems = keywordProblems(keyword, 'Keyword');
      if (filter.keywords.length >= FILTER_LIMITS.keywordsPerFilter) problems.push(tooManyKeywords());
      refuse([...problems, ...(await room(m, accountId, 0, 1))]);
      const [row] = (await m.query(
        `INSERT INTO filter_rules (filter_id, keyword, whole_word) VALUES ($1, $2, $3)
         RETURNING id::text, keyword, whole_word`,
        [filterId, keyword, input.wholeWord ?? true],
      )) as KeywordRow[];
      return keywordRecord(row);
    });
  }

  keyword(accountId: string, id: string): Promise<FilterKeywordRecord> {
    return this.transactions.run(async (m) => (await ownKeyword(m, accountId, id)).keyword);
  }

  updateKeyword(accountId: string, id: string, input: KeywordInput): Promise<FilterKeywordRecord> {
    return this.change(accountId, async (m) => {
      const { keyword: current } = await ownKeyword(m, accountId, id, true);
      const keyword = input.keyword === undefined ? current.keyword : (input.keyword ?? '');
      refuse(keywordProblems(keyword, 'Keyword'));
      const [row] = changedRows<KeywordRow>(
        await m.query(
          `UPDATE filter_rules SET keyword = $2, whole_word = $3 WHERE id = $1
           RETURNING id::text, keyword, whole_word`,
          [id, keyword, input.wholeWord ?? current.wholeWord],
        ),
      );
      return keywordRecord(row);
    });
  }

  async removeKeyword(accountId: string, id: string): Promise<void> {
    await this.change(accountId, async (m) => {
      await ownKeyword(m, accountId, id, true);
      await m.query(`DELETE FROM filter_rules WHERE id = $1`, [id]);
    });
  }

  statuses(accountId: string, filterId: string): Promise<FilterStatusRecord[]> {
    return this.transactions.run(async (m) => (await ownFilter(m, accountId, filterId)).statuses);
  }

  /**
   * Adds a status the viewer may see (Mastodon checks StatusPolicy#show?), once per filter. A status
   * the viewer may not see is refused with the same words as one that does not exist.
   */
  addStatus(accountId: string, filterId: string, statusId: string | undefined): Promise<FilterStatusRecord> {
    return this.change(accountId, async (m) => {
      const filter = await ownFilter(m, accountId, filterId, true);
      if (statusId === undefined || statusId === '') refuse(['Status must exist']);
      const visible = ID.test(statusId!) ? await findVisibleStatuses(m, [statusId!], accountId) : [];
      const problems: string[] = [];
      if (visible.length === 0) problems.push('Status is invalid');
      else if (filter.statuses.some((s) => s.statusId === statusId))
        problems.push('Status has already been taken');
      if (filter.statuses.length >= FILTER_LIMITS.statusesPerFilter) {
        problems.push(`Statuses are too many (maximum is ${FILTER_LIMITS.statusesPerFilter} in a filter)`);
      }
      refuse(problems);
      const [row] = (await m.query(
        `INSERT INTO filter_rules (filter_id, status_id) VALUES ($1, $2) RETURNING id::text, status_id::text`,
        [filterId, statusId],
      )) as { id: string; status_id: string }[];
      return { id: row.id, statusId: row.status_id };
    });
  }

  status(accountId: string, id: string): Promise<FilterStatusRecord> {
    return this.transactions.run((m) => ownStatus(m, accountId, id));
  }

  async removeStatus(accountId: string, id: string): Promise<void> {
    await this.change(accountId, async (m) => {
      await ownStatus(m, accountId, id, true);
      await m.query(`DELETE FROM filter_rules WHERE id = $1`, [id]);
    });
  }

  // --- the deprecated v1 API: one keyword of a filter ----------------------------------------------------

  v1List(accountId: string): Promise<V1FilterRecord[]> {
    return this.transactions.run(async (m) =>
      (await loadFilters(m, accountId))
        .flatMap((f) => f.keywords.map((keyword) => ({ keyword, filter: summary(f) })))
        .sort((a, b) => compareIds(a.keyword.id, b.keyword.id)),
    );
  }

  v1Get(accountId: string, id: string): Promise<V1FilterRecord> {
    return this.transactions.run((m) => ownKeyword(m, accountId, id));
  }

  /** A new filter titled with the phrase, holding that one keyword (Mastodon since 4.0). */
  v1Create(accountId: string, input: V1FilterInput): Promise<V1FilterRecord> {
    return this.change(accountId, async (m) => {
      const state = nextState(null, v1FilterInput(input));
      refuse([...filterProblems(state), ...(await room(m, accountId, 1, 1))]);
      const phrase = input.phrase ?? '';
      refuse(keywordProblems(phrase, 'Keyword'));
      const filterId = await insertFilter(m, accountId, state);
      const [row] = (await m.query(
        `INSERT INTO filter_rules (filter_id, keyword, whole_word) VALUES ($1, $2, $3) RETURNING id::text`,
        [filterId, phrase, input.wholeWord ?? true],
      )) as { id: string }[];
      return ownKeyword(m, accountId, row.id);
    });
  }

  /**
   * Changes the keyword, then its filter; a change to the filter's own settings (title, context, action,
   * expiry) is refused when other keywords share the filter, as Mastodon refuses it.
   */
  v1Update(accountId: string, id: string, input: V1FilterInput): Promise<V1FilterRecord> {
    return this.change(accountId, async (m) => {
      const { keyword: current, filter } = await ownKeyword(m, accountId, id, true);
      const phrase = input.phrase === undefined ? current.keyword : (input.phrase ?? '');
      refuse(keywordProblems(phrase, 'Keyword'));
      const state = nextState(filter, v1FilterInput(input));
      const changed =
        state.title !== filter.title ||
        state.action !== filter.action ||
        state.context.join('\n') !== filter.context.join('\n') ||
        (state.expiry.set && (state.expiry.seconds !== null || filter.expiresAt !== null));
      if (changed) {
        const [{ count }] = (await m.query(
          `SELECT count(*)::int AS count FROM filter_rules WHERE filter_id = $1 AND keyword IS NOT NULL`,
          [filter.id],
        )) as { count: number }[];
        if (count > 1) throw new StatusError('validation_failed', V1_SHARED_FILTER_ERROR);
      }
      refuse(filterProblems(state));
      await m.query(`UPDATE filter_rules SET keyword = $2, whole_word = $3 WHERE id = $1`, [
        id,
        phrase,
        input.wholeWord ?? current.wholeWord,
      ]);
      await updateFilter(m, filter.id, state);
      return ownKeyword(m, accountId, id);
    });
  }

  /** Removes the keyword only; its filter stays (Mastodon's v1 destroy). */
  async v1Remove(accountId: string, id: string): Promise<void> {
    await this.removeKeyword(accountId, id);
  }
}

type KeywordRow = { id: string; keyword: string; whole_word: boolean };

function keywordRecord(r: KeywordRow): FilterKeywordRecord {
  return { id: r.id, keyword: r.keyword, wholeWord: r.whole_word };
}

function summary(f: FilterRecord): FilterSummary {
  return { id: f.id, title: f.title, context: f.context, action: f.action, expiresAt: f.expiresAt };
}

function notFound(): StatusError {
  return new StatusError('not_found', 'Record not found');
}

function refuse(problems: string[]): void {
  if (problems.length > 0) {
    throw new StatusError('validation_failed', `Validation failed: ${[...new Set(problems)].join(', ')}`);
  }
}

function tooManyKeywords(): string {
  return `Keywords are too many (maximum is ${FILTER_LIMITS.keywordsPerFilter} in a filter)`;
}

function compareIds(a: string, b: string): number {
  return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
}

/** Rails' `blank?` on a string: empty or only white space. */
function blank(value: string | null | undefined): boolean {
  return value === undefined || value === null || value.trim() === '';
}

function characters(value: string): number {
  return [...value].length;
}

/**
 * Whether the account may have `filters` more filters and `keywords` more keywords. Its row is locked
 * until commit, so two requests cannot both take the last place; the lock does not block what only
 * references the account (posting, following).
 */
async function room(
  m: EntityManager,
  accountId: string,
  filters: number,
  keywords: number,
): Promise<string[]> {
  await m.query(`SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [accountId]);
  const [count] = (await m.query(
    `SELECT (SELECT count(*)::int FROM filters WHERE account_id = $1) AS filters,
            (SELECT count(*)::int FROM filter_rules r JOIN filters f ON f.id = r.filter_id
              WHERE f.account_id = $1 AND r.keyword IS NOT NULL) AS keywords`,
    [accountId],
  )) as { filters: number; keywords: number }[];
  const problems: string[] = [];
  if (filters > 0 && count.filters + filters > FILTER_LIMITS.filtersPerAccount) {
    problems.push(`You have too many filters (maximum is ${FILTER_LIMITS.filtersPerAccount})`);
  }
  if (keywords > 0 && count.keywords + keywords > FILTER_LIMITS.keywordsPerAccount) {
    problems.push(
      `You have too many filter keywords (maximum is ${FILTER_LIMITS.keywordsPerAccount} in all)`,
    );
  }
  return problems;
}

/** The settings a filter will have: the input over the current ones (or Mastodon's defaults). */
function nextState(current: FilterSummary | null, input: FilterInput): FilterState {
  const title = input.title !== undefined ? input.title : (current?.title ?? null);
  // Mastodon's normalisation: each context stripped, empty ones dropped.
  const context =
    input.context !== undefined
      ? input.context.map((c) => c.trim()).filter((c) => c !== '')
      : (current?.context ?? []);
  const action = input.filterAction ?? current?.action ?? 'warn';
  const expiry: FilterState['expiry'] =
    input.expiresIn !== undefined ? { set: true, seconds: input.expiresIn } : { set: false };
  return { title, context, action, expiry };
}

/** The filter's problems, in the order and words of Mastodon's validations. */
function filterProblems(state: FilterState): string[] {
  const problems: string[] = [];
  if (blank(state.title)) problems.push("Title can't be blank");
  else if (characters(state.title!) > FILTER_LIMITS.titleLength) {
    problems.push(`Title is too long (maximum is ${FILTER_LIMITS.titleLength} characters)`);
  }
  if (state.context.length === 0) problems.push("Context can't be blank");
  if (
    state.context.length === 0 ||
    state.context.some((c) => !(FILTER_CONTEXTS as readonly string[]).includes(c))
  ) {
    problems.push('Context None or invalid context supplied');
  }
  if (!(FILTER_ACTIONS as readonly string[]).includes(state.action)) {
    problems.push('Filter action is not included in the list');
  }
  return problems;
}

function keywordProblems(keyword: string, name: string): string[] {
  if (blank(keyword)) return [`${name} can't be blank`];
  if (characters(keyword) > FILTER_LIMITS.keywordLength) {
    return [`${name} is too long (maximum is ${FILTER_LIMITS.keywordLength} characters)`];
  }
  return [];
}

function keywordPlanProblems(plan: KeywordPlan): string[] {
  return [...plan.add.map((k) => k.keyword), ...plan.change.map((k) => k.keyword)].flatMap((k) =>
    keywordProblems(k, 'Keywords keyword'),
  );
}

/**
 * Rails' nested attributes as Mastodon accepts them: an entry with an `id` changes (or, with
 * `_destroy`, removes) that keyword of this filter — an id of any other keyword is not found; an entry
 * without one adds a keyword, unless it is marked `_destroy` or all its values are blank (Rails'
 * `reject_if: :all_blank`, where `false` counts as blank).
 */
function planKeywords(entries: KeywordAttributes[], current: FilterKeywordRecord[]): KeywordPlan {
  const plan: KeywordPlan = { add: [], change: [], remove: [] };
  const byId = new Map(current.map((k) => [k.id, k]));
  for (const entry of entries) {
    if (entry.id !== undefined) {
      const existing = byId.get(entry.id);
      if (!existing) throw notFound();
      if (entry.destroy === true) plan.remove.push(existing.id);
      else {
        plan.change.push({
          id: existing.id,
          keyword: entry.keyword === undefined ? existing.keyword : (entry.keyword ?? ''),
          wholeWord: entry.wholeWord ?? existing.wholeWord,
        });
      }
      continue;
    }
    if (entry.destroy === true) continue;
    if (blank(entry.keyword) && entry.wholeWord !== true) continue;
    plan.add.push({ keyword: entry.keyword ?? '', wholeWord: entry.wholeWord ?? true });
  }
  return plan;
}

async function applyKeywordPlan(m: EntityManager, filterId: string, plan: KeywordPlan): Promise<void> {
  if (plan.remove.length > 0) {
    await m.query(`DELETE FROM filter_rules WHERE filter_id = $1 AND id = ANY($2::bigint[])`, [
      filterId,
      plan.remove,
    ]);
  }
  for (const k of plan.change) {
    await m.query(`UPDATE filter_rules SET keyword = $3, whole_word = $4 WHERE filter_id = $1 AND id = $2`, [
      filterId,
      k.id,
      k.keyword,
      k.wholeWord,
    ]);
  }
  if (plan.add.length > 0) {
    await m.query(
      `INSERT INTO filter_rules (filter_id, keyword, whole_word)
       SELECT $1, k, w FROM unnest($2::text[], $3::boolean[]) WITH ORDINALITY AS t(k, w, n) ORDER BY n`,
      [filterId, plan.add.map((k) => k.keyword), plan.add.map((k) => k.wholeWord)],
    );
  }
}

const EXPIRY = `CASE WHEN $6::boolean THEN now() + $5::bigint * interval '1 second' END`;

async function insertFilter(m: EntityManager, accountId: string, state: FilterState): Promise<string> {
  const seconds = state.expiry.set ? state.expiry.seconds : null;
  const [row] = (await m.query(
    `INSERT INTO filters (account_id, title, context, action, expires_at)
     VALUES ($1, $2, $3, $4, ${EXPIRY}) RETURNING id::text`,
    [accountId, state.title, state.context, state.action, seconds, seconds !== null],
  )) as { id: string }[];
  return row.id;
}

async function updateFilter(m: EntityManager, id: string, state: FilterState): Promise<void> {
  const seconds = state.expiry.set ? state.expiry.seconds : null;
  await m.query(
    `UPDATE filters SET title = $2, context = $3, action = $4,
            expires_at = CASE WHEN $7::boolean THEN ${EXPIRY} ELSE expires_at END
      WHERE id = $1`,
    [id, state.title, state.context, state.action, seconds, seconds !== null, state.expiry.set],
  );
}

function v1FilterInput(input: V1FilterInput): FilterInput {
  return {
    title: input.phrase,
    context: input.context,
    filterAction: input.irreversible === undefined ? undefined : input.irreversible ? 'hide' : 'warn',
    expiresIn: input.expiresIn,
  };
}

/** An account's filters with their rules, oldest first; `ids` narrows them. */
async function loadFilters(m: EntityManager, accountId: string, ids?: string[]): Promise<FilterRecord[]> {
  const filters = (await m.query(
    `SELECT id::text, title, context, action, expires_at FROM filters
      WHERE account_id = $1 AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])) ORDER BY id`,
    [accountId, ids ?? null],
  )) as FilterRow[];
  if (filters.length === 0) return [];
  const rules = (await m.query(
    `SELECT id::text, filter_id::text, keyword, whole_word, status_id::text FROM filter_rules
      WHERE filter_id = ANY($1::bigint[]) ORDER BY id`,
    [filters.map((f) => f.id)],
  )) as {
    id: string;
    filter_id: string;
    keyword: string | null;
    whole_word: boolean;
    status_id: string | null;
  }[];
  return filters.map((f) => ({
    id: f.id,
    title: f.title,
    context: f.context,
    action: f.action,
    expiresAt: f.expires_at,
    keywords: rules
      .filter((r) => r.filter_id === f.id && r.keyword !== null)
      .map((r) => ({ id: r.id, keyword: r.keyword!, wholeWord: r.whole_word })),
    statuses: rules
      .filter((r) => r.filter_id === f.id && r.status_id !== null)
      .map((r) => ({ id: r.id, statusId: r.status_id! })),
  }));
}

/** The account's filter, or not found; `lock` holds it until commit, so its rules are counted once. */
async function ownFilter(
  m: EntityManager,
  accountId: string,
  id: string,
  lock = false,
): Promise<FilterRecord> {
  if (!ID.test(id)) throw notFound();
  if (lock) {
    await m.query(`SELECT 1 FROM filters WHERE id = $1 AND account_id = $2 FOR UPDATE`, [id, accountId]);
  }
  const [filter] = await loadFilters(m, accountId, [id]);
  if (!filter) throw notFound();
  return filter;
}

/** A keyword of one of the account's filters, with that filter's settings, or not found. */
async function ownKeyword(
  m: EntityManager,
  accountId: string,
  id: string,
  lock = false,
): Promise<V1FilterRecord> {
  const filterId = await ruleFilter(m, accountId, id, 'keyword');
  const filter = await ownFilter(m, accountId, filterId, lock);
  const keyword = filter.keywords.find((k) => k.id === id);
  if (!keyword) throw notFound();
  return { keyword, filter: summary(filter) };
}

async function ownStatus(
  m: EntityManager,
  accountId: string,
  id: string,
  lock = false,
): Promise<FilterStatusRecord> {
  const filterId = await ruleFilter(m, accountId, id, 'status_id');
  const found = (await ownFilter(m, accountId, filterId, lock)).statuses.find((s) => s.id === id);
  if (!found) throw notFound();
  return found;
}

/** The filter a rule of the given kind belongs to, when that filter is the account's. */
async function ruleFilter(
  m: EntityManager,
  accountId: string,
  id: string,
  kind: 'keyword' | 'status_id',
): Promise<string> {
  if (!ID.test(id)) throw notFound();
  const [row] = (await m.query(
    `SELECT r.filter_id::text FROM filter_rules r JOIN filters f ON f.id = r.filter_id
      WHERE r.id = $1 AND f.account_id = $2 AND r.${kind} IS NOT NULL`,
    [id, accountId],
  )) as { filter_id: string }[];
  if (!row) throw notFound();
  return row.filter_id;
}
