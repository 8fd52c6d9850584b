import { parseStrictInteger } from '@townhall/core';
import {
  type FilterInput,
  type KeywordAttributes,
  type KeywordInput,
  StatusError,
  type V1FilterInput,
} from '@townhall/social';

/** The longest expiry accepted, in seconds (about 68 years): more is no filter anyone means to set. */
const MAX_EXPIRES_IN = 2 ** 31 - 1;

/** The values Rails reads as false for a flag such as `_destroy` (ActiveModel::Type::Boolean). */
const RAILS_FALSE = new Set(['false', 'f', '0', 'off']);

/**
 * Reads the fields of a filters request body (JSON, form or query, with Rails' field names) into the
 * use cases' inputs, as Rails' strong parameters would: a list where Mastodon permits a list, booleans
 * and numbers as Rails reads them, anything of the wrong type refused (422) before anything happens.
 * Mastodon's own rules (blank titles, contexts, keywords) are the use cases'.
 */
class BodyReader {
  readonly problems: string[] = [];

  constructor(private readonly body: Record<string, unknown>) {}

  /** Text; null when sent empty (JSON null), undefined when absent. */
  text(name: string, value: unknown = this.body[name]): string | null | undefined {
    if (value === undefined) return undefined;
    if (value === null) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    this.problems.push(`${name} must be text`);
    return undefined;
  }

  /** A boolean as Rails reads one from JSON or a form; empty counts as absent. */
  bool(name: string, value: unknown = this.body[name]): boolean | undefined {
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      const v = value.trim().toLowerCase();
      if (['true', '1', 'on', 't'].includes(v)) return true;
      if (['false', '0', 'off', 'f'].includes(v)) return false;
    }
    this.problems.push(`${name} must be true or false`);
    return undefined;
  }

  /** `context[]`: a list of strings; a single value is not a list and is left out, as Rails permits it. */
  contexts(): string[] | undefined {
    const value = this.body.context;
    if (!Array.isArray(value)) return undefined;
    if (value.some((c) => typeof c !== 'string')) {
      this.problems.push('context must be a list of strings');
      return undefined;
    }
    return value as string[];
  }

  /** Seconds from now, or null (sent empty): never expires. */
  expiresIn(): number | null | undefined {
    const value = this.body.expires_in;
    if (value === undefined) return undefined;
    if (value === null || value === '') return null;
    const seconds =
      typeof value === 'number' ? value : typeof value === 'string' ? parseStrictInteger(value) : undefined;
    if (seconds === undefined || !Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_EXPIRES_IN) {
      this.problems.push(`expires_in must be a whole number of seconds from 0 to ${MAX_EXPIRES_IN}`);
      return undefined;
    }
    return seconds;
  }

  /**
   * `keywords_attributes[]`: a list of objects, or an object keyed by index (`keywords_attributes[0][keyword]`),
   * as Rails' nested attributes take both. A blank id is no id (a new keyword), as in Rails.
   */
  keywordAttributes(): KeywordAttributes[] | undefined {
    const raw = this.body.keywords_attributes;
    if (raw === undefined || raw === null) return undefined;
    const list = Array.isArray(raw)
      ? (raw as unknown[])
      : typeof raw === 'object'
        ? Object.entries(raw as Record<string, unknown>)
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([, v]) => v)
        : null;
    if (list === null || list.some((k) => typeof k !== 'object' || k === null || Array.isArray(k))) {
      this.problems.push('keywords_attributes must be a list of keywords');
      return undefined;
    }
    return (list as Record<string, unknown>[]).map((k, i) => {
      const id = this.text(`keywords_attributes[${i}][id]`, k.id);
      return {
        id: id === null || id === undefined || id.trim() === '' ? undefined : id,
        keyword: this.text(`keywords_attributes[${i}][keyword]`, k.keyword),
        wholeWord: this.bool(`keywords_attributes[${i}][whole_word]`, k.whole_word),
        destroy: railsFlag(k._destroy),
      };
    });
  }

  done<T>(value: T): T {
    if (this.problems.length > 0) {
      throw new StatusError('validation_failed', `Validation failed: ${this.problems.join(', ')}`);
    }
    return value;
  }
}

/** Rails' cast of a flag: anything but blank and its false words is true. */
function railsFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return false;
  if (typeof value === 'string') return value.trim() !== '' && !RAILS_FALSE.has(value.trim().toLowerCase());
  return true;
}

function reader(body: unknown): BodyReader {
  return new BodyReader(typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {});
}

/** `POST /api/v2/filters` and `PUT /api/v2/filters/:id`. */
export function filterInput(body: unknown): FilterInput {
  const r = reader(body);
  return r.done({
    title: r.text('title'),
    context: r.contexts(),
    filterAction: r.text('filter_action') || undefined,
    expiresIn: r.expiresIn(),
    keywords: r.keywordAttributes(),
  });
}

/** `POST /api/v2/filters/:filter_id/keywords` and `PUT /api/v2/filters/keywords/:id`. */
export function keywordInput(body: unknown): KeywordInput {
  const r = reader(body);
  return r.done({ keyword: r.text('keyword'), wholeWord: r.bool('whole_word') });
}

/** `POST /api/v2/filters/:filter_id/statuses`. */
export function statusIdOf(body: unknown): string | undefined {
  const r = reader(body);
  return r.done(r.text('status_id') ?? undefined);
}

/** `POST /api/v1/filters` and `PUT /api/v1/filters/:id`. */
export function v1FilterInput(body: unknown): V1FilterInput {
  const r = reader(body);
  return r.done({
    phrase: r.text('phrase'),
    context: r.contexts(),
    irreversible: r.bool('irreversible'),
    wholeWord: r.bool('whole_word'),
    expiresIn: r.expiresIn(),
  });
}
