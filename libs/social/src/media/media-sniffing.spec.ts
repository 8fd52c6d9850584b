import { sniffMedia } from './media-sniffing';

const bytes = (hex: string, text = '') =>
  Buffer.concat([Buffer.from(hex, 'hex'), Buffer.from(text, 'latin1')]);

describe('sniffMedia', () => {
  it.each([
    ['JPEG', bytes('ffd8ffe0'), 'image/jpeg'],
    ['PNG', bytes('89504e470d0a1a0a'), 'image/png'],
    ['MP4', bytes('00000018', 'ftypisom'), 'video/mp4'],
    ['QuickTime', bytes('00000014', 'ftypqt  '), 'video/quicktime'],
    ['M4A', bytes('00000020', 'ftypM4A '), 'audio/mp4'],
    ['WebM', bytes('1a45dfa3'), 'video/webm'],
    ['Ogg', bytes('', 'OggS\0'), 'audio/ogg'],
    ['FLAC', bytes('', 'fLaC\0\0\0\x22'), 'audio/flac'],
    ['WAV', bytes('', 'RIFF\0\0\0\0WAVEfmt '), 'audio/wav'],
    ['MP3 with an ID3 tag', bytes('', 'ID3\x04'), 'audio/mpeg'],
    ['an MP3 frame', bytes('fffb9064'), 'audio/mpeg'],
    ['an AAC (ADTS) frame', bytes('fff15080'), 'audio/aac'],
  ])('knows %s by its first bytes', (_label, data, type) => {
    expect(sniffMedia(data)?.contentType).toBe(type);
  });

  it.each([
    ['HTML', Buffer.from('<!DOCTYPE html><script>alert(1)</script>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['nothing', Buffer.alloc(0)],
  ])('knows %s as nothing it accepts', (_label, data) => {
    expect(sniffMedia(data)).toBeNull();
  });
});
