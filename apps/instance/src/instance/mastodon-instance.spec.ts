import { instanceV1, instanceV2, streamingOrigin } from './mastodon-instance';

const facts = {
  domain: 'social.agency.example',
  title: 'Federal Agency',
  description: 'Official.',
  contactEmail: 'press@agency.example',
  usage: { users: 4, activeMonth: 0, activeHalfyear: 0, localPosts: 0 },
  videoAndAudio: false,
};
const https = { publicUrl: { scheme: 'https' as const, port: undefined } };
const localHttp = { publicUrl: { scheme: 'http' as const, port: 3000 } };

describe('Mastodon instance entities', () => {
  it('puts the streaming API on wss:// of the public origin in production, ws:// with the port locally', () => {
    expect(streamingOrigin(https, 'social.agency.example')).toBe('wss://social.agency.example');
    expect(streamingOrigin({ publicUrl: { scheme: 'https', port: 443 } }, 'a.example')).toBe(
      'wss://a.example',
    );
    expect(streamingOrigin(localHttp, 'a.example')).toBe('ws://a.example:3000');
  });

  it('builds v2 links on the public origin', () => {
    const v2 = instanceV2(facts, https);
    expect(v2.thumbnail.url).toBe('https://social.agency.example/instance/thumbnail.png');
    expect(v2.configuration.urls).toMatchObject({
      streaming: 'wss://social.agency.example',
      about: 'https://social.agency.example/about',
    });
    expect(v2).toMatchObject({
      domain: 'social.agency.example',
      registrations: { enabled: false },
      contact: { email: 'press@agency.example' },
    });
  });

  it('reports closed registrations and the counts in v1', () => {
    const v1 = instanceV1(facts, https);
    expect(v1).toMatchObject({
      uri: 'social.agency.example',
      urls: { streaming_api: 'wss://social.agency.example' },
      stats: { user_count: 4, status_count: 0, domain_count: 0 },
      registrations: false,
      version: '4.3.0 (compatible; Townhall 0.1.0)',
    });
  });

  it('never shares its limit lists between responses', () => {
    const a = instanceV2(facts, https);
    a.configuration.media_attachments.supported_mime_types.push('text/html');
    expect(instanceV2(facts, https).configuration.media_attachments.supported_mime_types).not.toContain(
      'text/html',
    );
  });

  it('announces video and audio types only when ffmpeg is there to process them', () => {
    const images = instanceV2(facts, https).configuration.media_attachments.supported_mime_types;
    expect(images.some((t) => /^(video|audio)\//.test(t))).toBe(false);
    const all = instanceV2({ ...facts, videoAndAudio: true }, https).configuration.media_attachments;
    expect(all.supported_mime_types).toEqual(
      expect.arrayContaining(['image/jpeg', 'video/mp4', 'audio/mpeg']),
    );
    expect(
      instanceV1({ ...facts, videoAndAudio: true }, https).configuration.media_attachments,
    ).toMatchObject({
      video_size_limit: 99 * 1024 * 1024,
      video_matrix_limit: 8_294_400,
    });
  });
});
