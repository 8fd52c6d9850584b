/**
 * The words of the public pages, in the languages they are offered in, and the choice between them:
 * the reader's `Accept-Language` (RFC 9110 §12.5.4: quality values, language ranges matched by prefix,
 * `*` meaning any), falling back to the tenant's default language.
 */
export interface PageWords {
  skipToContent: string;
  siteNavigation: string;
  about: string;
  posts: string;
  followers: string;
  following: string;
  noPosts: string;
  older: string;
  newer: string;
  pagination: string;
  postBy: (name: string) => string;
  earlierInThread: string;
  replies: string;
  noReplies: string;
  rules: string;
  noRules: string;
  contact: string;
  officialAccounts: string;
  noOfficialAccounts: string;
  contentWarning: string;
  sensitiveMedia: string;
  edited: string;
  feed: string;
  tagTitle: (tag: string) => string;
  notFoundTitle: string;
  notFoundText: string;
  footer: string;
}

const EN: PageWords = {
  skipToContent: 'Skip to content',
  siteNavigation: 'Site',
  about: 'About',
  posts: 'Posts',
  followers: 'Followers',
  following: 'Following',
  noPosts: 'No public posts yet.',
  older: 'Older posts',
  newer: 'Newer posts',
  pagination: 'More posts',
  postBy: (name) => `Post by ${name}`,
  earlierInThread: 'Earlier in the conversation',
  replies: 'Replies',
  noReplies: 'No public replies.',
  rules: 'Rules',
  noRules: 'This server has not published rules of its own.',
  contact: 'Contact',
  officialAccounts: 'Official accounts',
  noOfficialAccounts: 'No official accounts yet.',
  contentWarning: 'Content warning',
  sensitiveMedia: 'Sensitive media',
  edited: 'edited',
  feed: 'RSS feed',
  tagTitle: (tag) => `Posts tagged #${tag}`,
  notFoundTitle: 'Not found',
  notFoundText: 'There is nothing public at this address.',
  footer: 'Follow these accounts from any Mastodon-compatible app.',
};

const DE: PageWords = {
  skipToContent: 'Zum Inhalt springen',
  siteNavigation: 'Website',
  about: 'Über diesen Server',
  posts: 'Beiträge',
  followers: 'Follower',
  following: 'Folgt',
  noPosts: 'Noch keine öffentlichen Beiträge.',
  older: 'Ältere Beiträge',
  newer: 'Neuere Beiträge',
  pagination: 'Weitere Beiträge',
  postBy: (name) => `Beitrag von ${name}`,
  earlierInThread: 'Früher im Gespräch',
  replies: 'Antworten',
  noReplies: 'Keine öffentlichen Antworten.',
  rules: 'Regeln',
  noRules: 'Dieser Server hat keine eigenen Regeln veröffentlicht.',
  contact: 'Kontakt',
  officialAccounts: 'Offizielle Konten',
  noOfficialAccounts: 'Noch keine offiziellen Konten.',
  contentWarning: 'Inhaltswarnung',
  sensitiveMedia: 'Sensible Medien',
  edited: 'bearbeitet',
  feed: 'RSS-Feed',
  tagTitle: (tag) => `Beiträge mit #${tag}`,
  notFoundTitle: 'Nicht gefunden',
  notFoundText: 'Unter dieser Adresse gibt es nichts Öffentliches.',
  footer: 'Folgen Sie diesen Konten mit jeder Mastodon-kompatiblen App.',
};

const FR: PageWords = {
  skipToContent: 'Aller au contenu',
  siteNavigation: 'Site',
  about: 'À propos',
  posts: 'Publications',
  followers: 'Abonnés',
  following: 'Abonnements',
  noPosts: 'Aucune publication publique pour l’instant.',
  older: 'Publications plus anciennes',
  newer: 'Publications plus récentes',
  pagination: 'Autres publications',
  postBy: (name) => `Publication de ${name}`,
  earlierInThread: 'Plus tôt dans la conversation',
  replies: 'Réponses',
  noReplies: 'Aucune réponse publique.',
  rules: 'Règles',
  noRules: 'Ce serveur n’a pas publié de règles propres.',
  contact: 'Contact',
  officialAccounts: 'Comptes officiels',
  noOfficialAccounts: 'Pas encore de compte officiel.',
  contentWarning: 'Avertissement de contenu',
  sensitiveMedia: 'Média sensible',
  edited: 'modifié',
  feed: 'Flux RSS',
  tagTitle: (tag) => `Publications avec #${tag}`,
  notFoundTitle: 'Introuvable',
  notFoundText: 'Il n’y a rien de public à cette adresse.',
  footer: 'Suivez ces comptes depuis n’importe quelle application compatible avec Mastodon.',
};

const NL: PageWords = {
  skipToContent: 'Naar de inhoud',
  siteNavigation: 'Website',
  about: 'Over deze server',
  posts: 'Berichten',
  followers: 'Volgers',
  following: 'Volgend',
  noPosts: 'Nog geen openbare berichten.',
  older: 'Oudere berichten',
  newer: 'Nieuwere berichten',
  pagination: 'Meer berichten',
  postBy: (name) => `Bericht van ${name}`,
  earlierInThread: 'Eerder in het gesprek',
  replies: 'Reacties',
  noReplies: 'Geen openbare reacties.',
  rules: 'Regels',
  noRules: 'Deze server heeft geen eigen regels gepubliceerd.',
  contact: 'Contact',
  officialAccounts: 'Officiële accounts',
  noOfficialAccounts: 'Nog geen officiële accounts.',
  contentWarning: 'Inhoudswaarschuwing',
  sensitiveMedia: 'Gevoelige media',
  edited: 'bewerkt',
  feed: 'RSS-feed',
  tagTitle: (tag) => `Berichten met #${tag}`,
  notFoundTitle: 'Niet gevonden',
  notFoundText: 'Op dit adres is niets openbaars.',
  footer: 'Volg deze accounts vanuit elke Mastodon-compatibele app.',
};

export const PAGE_LANGUAGES: Readonly<Record<string, PageWords>> = { en: EN, de: DE, fr: FR, nl: NL };

/**
 * The language of the page for an `Accept-Language` header: the offered language the reader ranks
 * highest (a range matches its own language and any regional form of it: `de-AT` → `de`), else
 * `fallback` (the tenant's default language, itself offered, or English).
 */
export function pageLanguage(acceptLanguage: string | undefined, fallback: string): string {
  const dflt = PAGE_LANGUAGES[fallback] ? fallback : 'en';
  if (!acceptLanguage) return dflt;
  const ranked: { lang: string; q: number; order: number }[] = [];
  acceptLanguage.split(',').forEach((part, order) => {
    const [range, ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const lang = range.trim().toLowerCase();
    if (lang !== '' && q > 0) ranked.push({ lang, q, order });
  });
  ranked.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { lang } of ranked) {
    if (lang === '*') return dflt;
    const primary = lang.split('-')[0];
    if (PAGE_LANGUAGES[primary]) return primary;
  }
  return dflt;
}

/** Dates as the page's language writes them, in UTC (the page is the same for every reader, and cached). */
export function formatDate(date: Date | string, lang: string): string {
  let format = DATE_FORMATS.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    DATE_FORMATS.set(lang, format);
  }
  return format.format(new Date(date));
}

/** One formatter per offered language: making one costs far more than using it. */
const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();
