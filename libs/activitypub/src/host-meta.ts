/**
 * host-meta (RFC 6415): tells clients that only know a domain where its WebFinger endpoint is. Older
 * fediverse software still looks here before trying `/.well-known/webfinger` directly. Pure builders:
 * the caller passes the absolute WebFinger endpoint of the tenant's public origin.
 */
export const XRD_CONTENT_TYPE = 'application/xrd+xml';
export const JRD_CONTENT_TYPE = 'application/json';
const XRD_NAMESPACE = 'http://docs.oasis-open.org/ns/xri/xrd-1.0';

export interface HostMetaJrd {
  links: { rel: 'lrdd'; template: string }[];
}

/** The lrdd template: the WebFinger endpoint with `{uri}` where the resource goes. */
export function webfingerTemplate(webfingerEndpoint: string): string {
  const url = new URL(webfingerEndpoint);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`Not an http(s) URL: ${webfingerEndpoint}`);
  if (url.search || url.hash) throw new Error('The WebFinger endpoint must not carry a query or fragment');
  // Built as text: URL serialisation would percent-encode the braces of the template variable.
  return `${webfingerEndpoint}?resource={uri}`;
}

export function hostMetaXrd(webfingerEndpoint: string): string {
  const template = escapeXml(webfingerTemplate(webfingerEndpoint));
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<XRD xmlns="${XRD_NAMESPACE}">\n` +
    `  <Link rel="lrdd" template="${template}"/>\n` +
    '</XRD>\n'
  );
}

export function hostMetaJrd(webfingerEndpoint: string): HostMetaJrd {
  return { links: [{ rel: 'lrdd', template: webfingerTemplate(webfingerEndpoint) }] };
}

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}
