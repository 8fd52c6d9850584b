/** What a file is, read from its first bytes — never from the name or type a client declared. */
export interface SniffedMedia {
  kind: 'image' | 'video' | 'audio';
  contentType: string;
  extension: string;
}

const ascii = (data: Buffer, at: number, text: string): boolean =>
  data.length >= at + text.length && data.toString('latin1', at, at + text.length) === text;

const IMAGE_BRANDS = new Map([
  ['avif', 'image/avif'],
  ['avis', 'image/avif'],
  ['heic', 'image/heic'],
  ['heix', 'image/heic'],
  ['mif1', 'image/heif'],
  ['msf1', 'image/heif'],
]);

/**
 * The media type of `data` from its signature (the "magic bytes" of each format Mastodon accepts), or
 * null when it is none of them. ISO media files (`ftyp`) are told apart by their major brand.
 */
export function sniffMedia(data: Buffer): SniffedMedia | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) {
    return { kind: 'image', contentType: 'image/jpeg', extension: 'jpg' };
  }
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47 && data.readUInt32BE(4) === 0x0d0a1a0a) {
    return { kind: 'image', contentType: 'image/png', extension: 'png' };
  }
  if (ascii(data, 0, 'GIF87a') || ascii(data, 0, 'GIF89a')) {
    return { kind: 'image', contentType: 'image/gif', extension: 'gif' };
  }
  if (ascii(data, 0, 'RIFF') && ascii(data, 8, 'WEBP')) {
    return { kind: 'image', contentType: 'image/webp', extension: 'webp' };
  }
  if (ascii(data, 0, 'RIFF') && ascii(data, 8, 'WAVE')) {
    return { kind: 'audio', contentType: 'audio/wav', extension: 'wav' };
  }
  if (ascii(data, 4, 'ftyp') && data.length >= 12) {
    const brand = data.toString('latin1', 8, 12);
    const image = IMAGE_BRANDS.get(brand);
    if (image)
      return { kind: 'image', contentType: image, extension: image === 'image/avif' ? 'avif' : 'heic' };
    if (brand === 'qt  ') return { kind: 'video', contentType: 'video/quicktime', extension: 'mov' };
    if (brand.startsWith('M4A')) return { kind: 'audio', contentType: 'audio/mp4', extension: 'm4a' };
    return { kind: 'video', contentType: 'video/mp4', extension: 'mp4' };
  }
  if (data.length >= 4 && data.readUInt32BE(0) === 0x1a45dfa3) {
    return { kind: 'video', contentType: 'video/webm', extension: 'webm' };
  }
  if (ascii(data, 0, 'OggS')) return { kind: 'audio', contentType: 'audio/ogg', extension: 'ogg' };
  if (ascii(data, 0, 'fLaC')) return { kind: 'audio', contentType: 'audio/flac', extension: 'flac' };
  // AAC in ADTS frames: the MPEG sync word with layer 0 (MP3 frames have layer 1-3).
  if (data.length >= 2 && data[0] === 0xff && (data[1] & 0xf6) === 0xf0) {
    return { kind: 'audio', contentType: 'audio/aac', extension: 'aac' };
  }
  if (ascii(data, 0, 'ID3') || (data.length >= 2 && data[0] === 0xff && (data[1] & 0xe0) === 0xe0)) {
    return { kind: 'audio', contentType: 'audio/mpeg', extension: 'mp3' };
  }
  return null;
}
