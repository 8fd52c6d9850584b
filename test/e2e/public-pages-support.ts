import { DataSource } from 'typeorm';
import sharp from 'sharp';
import { runInTenantSchema, tenantRef } from '@townhall/tenancy';
import { callApi, type ClientTestbed } from './client-support';

/**
 * One tenant with what its public pages must show and must not: an organisation's official account with
 * statuses of every visibility (public, unlisted, private, direct) and an image with a description, a
 * citizen's public and private replies, and an account that posted publicly and was then suspended.
 * Shared by the public-pages e2e test and the browser test.
 */
export interface PublicFixture {
  base: string;
  domain: string;
  token: string;
  ids: {
    publicPost: string;
    unlisted: string;
    privatePost: string;
    direct: string;
    publicReply: string;
    privateReply: string;
    suspendedReply: string;
    escaped: string;
    warned: string;
  };
}

export const PUBLIC_TEXT = {
  publicPost: 'Flood warning for the river valley #floods',
  unlisted: 'Unlisted note about the #floods response',
  privatePost: 'Followers-only planning note #floods',
  direct: '@citizen only for you: the direct message',
  publicReply: 'Thank you, citizen reply in public',
  privateReply: 'Private reply the public never sees',
  suspendedReply: 'Spam reply from a suspended account #floods',
  escaped: 'Markup stays text: <script>alert("x")</script> & <b>bold</b>',
  imageDescription: 'Map of the flooded area, river valley shaded in blue',
  warning: 'Photos of damaged homes',
  warned: 'The street after the water went down',
};

export async function seedPublicFixture(
  bed: ClientTestbed,
  slug: string,
  domain: string,
): Promise<PublicFixture> {
  const base = bed.base[slug];
  await bed.account(slug, 'ministry', 'staff', {
    displayName: 'Ministry of Water',
    actorType: 'Organization',
  });
  await bed.account(slug, 'citizen');
  const spammer = await bed.account(slug, 'spammer');
  const token = await bed.token(slug, 'ministry');
  const citizen = await bed.token(slug, 'citizen');
  const spam = await bed.token(slug, 'spammer');

  const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#2060a0' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'map.png');
  form.set('description', PUBLIC_TEXT.imageDescription);
  const media = await callApi<{ id: string }>(base, 'POST', '/api/v2/media', token, form);
  if (media.status !== 200 && media.status !== 202) throw new Error(`media upload: ${media.status}`);

  const post = async (t: string, body: Record<string, unknown>) => {
    const res = await callApi<{ id: string }>(base, 'POST', '/api/v1/statuses', t, body);
    if (res.status !== 200) throw new Error(`post: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const publicPost = await post(token, {
    status: PUBLIC_TEXT.publicPost,
    visibility: 'public',
    language: 'en',
    media_ids: [media.body.id],
  });
  const unlisted = await post(token, { status: PUBLIC_TEXT.unlisted, visibility: 'unlisted' });
  const privatePost = await post(token, { status: PUBLIC_TEXT.privatePost, visibility: 'private' });
  const direct = await post(token, { status: PUBLIC_TEXT.direct, visibility: 'direct' });
  const escaped = await post(token, { status: PUBLIC_TEXT.escaped, visibility: 'public' });
  const publicReply = await post(citizen, {
    status: PUBLIC_TEXT.publicReply,
    visibility: 'public',
    in_reply_to_id: publicPost,
  });
  const warned = await post(citizen, {
    status: PUBLIC_TEXT.warned,
    spoiler_text: PUBLIC_TEXT.warning,
    visibility: 'public',
  });
  const privateReply = await post(citizen, {
    status: PUBLIC_TEXT.privateReply,
    visibility: 'private',
    in_reply_to_id: publicPost,
  });
  const suspendedReply = await post(spam, {
    status: PUBLIC_TEXT.suspendedReply,
    visibility: 'public',
    in_reply_to_id: publicPost,
  });
  // What a moderator's suspension leaves in the account's row (moderation actions write the same).
  await runInTenantSchema(bed.app.get(DataSource), tenantRef(bed.tenants[slug], domain), (m) =>
    m.query(`UPDATE accounts SET suspended_at = now() WHERE id = $1`, [spammer.id]),
  );
  return {
    base,
    domain,
    token,
    ids: {
      publicPost,
      unlisted,
      privatePost,
      direct,
      publicReply,
      privateReply,
      suspendedReply,
      escaped,
      warned,
    },
  };
}
