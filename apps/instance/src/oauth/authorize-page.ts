import { escapeHtml } from '@townhall/social';

/**
 * The sign-in and consent page of `/oauth/authorize`: plain HTML that works without JavaScript, with
 * labelled fields, one heading per page, the main landmark, the language declared, and visible focus.
 * Everything from the request or the client is escaped.
 */

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f4f6; color: #1c1c22; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  input[type=email], input[type=password], input[type=text] { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit; border: 1px solid #6b6b78; border-radius: 4px; }
  button { font: inherit; padding: .6rem 1.2rem; margin: 1.5rem .5rem 0 0; border-radius: 4px; border: 1px solid #1c1c22; cursor: pointer; }
  button[value=authorize] { background: #2b4acb; color: #fff; border-color: #2b4acb; }
  :focus-visible { outline: 3px solid #c25e00; outline-offset: 2px; }
  .error { background: #fde8e8; border-left: 4px solid #b3261e; padding: .6rem 1rem; }
  code { font-size: 1.1rem; word-break: break-all; background: #eef; padding: .4rem; display: block; }
  ul { padding-left: 1.2rem; }`;

function page(title: string, instance: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} — ${escapeHtml(instance)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export interface ConsentPage {
  instance: string;
  application: string;
  website: string | null;
  scopes: string[];
  /** The authorization request's parameters, posted back as they came. */
  hidden: Record<string, string>;
  csrfToken: string;
  login?: string;
  error?: string;
}

const SCOPE_WORDS: Record<string, string> = {
  read: 'read all your account’s data',
  write: 'change all your account’s data',
  follow: 'follow, unfollow, block and mute accounts',
  push: 'receive push notifications',
  profile: 'read only your account’s profile',
};

function describeScope(scope: string): string {
  if (SCOPE_WORDS[scope]) return SCOPE_WORDS[scope];
  const [kind, what] = scope.split(':');
  return `${kind === 'read' ? 'read' : kind === 'write' ? 'change' : kind} your ${what ?? scope}`;
}

export function consentPage(p: ConsentPage): string {
  const hidden = Object.entries(p.hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const site = p.website
    ? ` (<a href="${escapeHtml(p.website)}" rel="noopener noreferrer">${escapeHtml(p.website)}</a>)`
    : '';
  return page(
    'Authorize',
    p.instance,
    `<h1>Sign in to ${escapeHtml(p.instance)}</h1>
<p><strong>${escapeHtml(p.application)}</strong>${site} asks to use your account. It will be able to:</p>
<ul>${p.scopes.map((s) => `<li>${escapeHtml(describeScope(s))}</li>`).join('')}</ul>
${p.error ? `<p class="error" role="alert" id="error">${escapeHtml(p.error)}</p>` : ''}
<form method="post" action="/oauth/authorize">
${hidden}
<input type="hidden" name="authenticity_token" value="${escapeHtml(p.csrfToken)}">
<label for="login">E-mail address</label>
<input id="login" name="login" type="email" autocomplete="username" required value="${escapeHtml(p.login ?? '')}"${p.error ? ' aria-describedby="error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>`,
  );
}

export function codePage(instance: string, application: string, code: string): string {
  return page(
    'Authorization code',
    instance,
    `<h1>Authorization code</h1>
<p>Copy this code and paste it into <strong>${escapeHtml(application)}</strong>:</p>
<code id="code">${escapeHtml(code)}</code>`,
  );
}

export function errorPage(instance: string, message: string): string {
  return page(
    'Authorization failed',
    instance,
    `<h1>This authorization request cannot be completed</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
<p>Go back to the application and try again, or contact its developer.</p>`,
  );
}
