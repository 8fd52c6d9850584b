import { escapeHtml } from '@townhall/social';

/**
 * HTML built by tagged templates with one escaping rule: every value interpolated into `html\`…\`` is
 * escaped (text and attribute values alike, quotes included), unless it is `SafeHtml` — the result of
 * another `html` template, or markup that `trustedHtml` vouches for. Arrays are joined; null, undefined
 * and false render as nothing. There is no other way to put text into a page, so forgetting to escape
 * takes an explicit `trustedHtml` call, which is easy to find and review.
 */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value as string | number));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * Markup used as it is. Only for HTML Townhall wrote itself from escaped text: a local status's content
 * and a local account's note (both built by the status formatter from the author's text, every character
 * of which was escaped), and the page's own stylesheet.
 */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * HTML that came from elsewhere (a remote server's status) as plain text: tags dropped, entities of the
 * few kinds sanitised HTML carries decoded, line structure kept. The result is escaped when rendered.
 */
export function htmlAsText(markup: string): string {
  return markup
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}
