import { byteRange } from './media-files.controller';

describe('byteRange', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100, end: 999 }],
    ['bytes=-200', { start: 800, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=900-5000', { start: 900, end: 999 }],
  ])('reads %s of a 1000-byte file', (header, range) => {
    expect(byteRange(header, 1000)).toEqual(range);
  });

  it.each(['bytes=0-1,5-9', 'items=0-1', 'bytes=-', 'bytes=50-10', 'bytes=a-b'])(
    'answers the whole file for %s',
    (header) => {
      expect(byteRange(header, 1000)).toBeNull();
    },
  );

  it.each(['bytes=1000-', 'bytes=2000-3000', 'bytes=-0'])('finds %s unsatisfiable', (header) => {
    expect(byteRange(header, 1000)).toBe('unsatisfiable');
  });
});
