import type { TenantAtHost } from '@townhall/tenancy';
import { resolveStream, StreamError, type StreamViewer } from './stream-session';

const tenant: TenantAtHost = {
  ref: { id: '42', schema: 'tenant_42', domain: 'social.agency.example', status: 'active' },
  displayName: 'Agency',
  primaryDomain: 'social.agency.example',
};

function viewer(scopes: string[]): StreamViewer {
  return { tenant, accountId: '7', scopes, token: 't', tokenKey: '42:x' };
}

const owns = (list: string) => Promise.resolve(list === '12');

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StreamError);
  return { status: (err as StreamError).status, message: (err as StreamError).message };
}

describe('resolveStream (Mastodon channelNameToIds and checkScopes)', () => {
  it("puts each stream on its tenant's channels", async () => {
    const v = viewer(['read']);
    expect(await resolveStream(v, 'user', {}, owns)).toMatchObject({
      channels: ['timeline:42:7', 'timeline:42:7:notifications'],
      stream: ['user'],
      filtering: false,
    });
    expect(await resolveStream(v, 'user:notification', {}, owns)).toMatchObject({
      channels: ['timeline:42:7:notifications'],
    });
    expect(await resolveStream(v, 'public:local:media', {}, owns)).toMatchObject({
      channels: ['timeline:42:public:local:media'],
      filtering: true,
    });
    expect(await resolveStream(v, 'direct', {}, owns)).toMatchObject({ channels: ['timeline:42:direct:7'] });
    expect(await resolveStream(v, 'hashtag:local', { tag: '#Cats' }, owns)).toMatchObject({
      channels: ['timeline:42:hashtag:cats:local'],
      stream: ['hashtag:local', '#Cats'],
      filtering: true,
    });
    expect(await resolveStream(v, 'list', { list: '12' }, owns)).toMatchObject({
      channels: ['timeline:42:list:12'],
      stream: ['list', '12'],
    });
    // Mastodon's clients may send the stream as an array.
    expect(await resolveStream(v, ['public'], {}, owns)).toMatchObject({ channels: ['timeline:42:public'] });
  });

  it('leaves notifications out of the user stream of a token that may not read them', async () => {
    const target = await resolveStream(viewer(['read:statuses']), 'user', {}, owns);
    expect(target.channels).toEqual(['timeline:42:7']);
  });

  it('checks scopes as Mastodon does: public streams need none, others read or the granular scope', async () => {
    const narrow = viewer(['write']);
    expect((await resolveStream(narrow, 'public', {}, owns)).channels).toEqual(['timeline:42:public']);
    expect(await refusal(resolveStream(narrow, 'user', {}, owns))).toEqual({
      status: 401,
      message: 'Access token does not have the required scopes',
    });
    expect(await refusal(resolveStream(viewer(['read:statuses']), 'user:notification', {}, owns))).toEqual({
      status: 401,
      message: 'Access token does not have the required scopes',
    });
    await expect(
      resolveStream(viewer(['read:notifications']), 'user:notification', {}, owns),
    ).resolves.toBeDefined();
  });

  it("refuses unknown streams, missing parameters and others' lists with Mastodon's messages", async () => {
    const v = viewer(['read']);
    expect(await refusal(resolveStream(v, 'everything', {}, owns))).toEqual({
      status: 400,
      message: 'Unknown stream type',
    });
    expect(await refusal(resolveStream(v, undefined, {}, owns))).toMatchObject({ status: 400 });
    expect(await refusal(resolveStream(v, 'hashtag', {}, owns))).toEqual({
      status: 400,
      message: 'Missing tag name parameter',
    });
    expect(await refusal(resolveStream(v, 'list', {}, owns))).toEqual({
      status: 400,
      message: 'Missing list name parameter',
    });
    expect(await refusal(resolveStream(v, 'list', { list: '13' }, owns))).toEqual({
      status: 401,
      message: 'Not authorized to stream this list',
    });
    expect(await refusal(resolveStream(v, 'list', { list: '1 OR 1=1' }, owns))).toMatchObject({
      status: 401,
    });
  });
});
