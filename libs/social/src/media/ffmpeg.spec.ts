import { ffmpegAvailable, frameRateValue, MediaToolFailed, runTool } from './ffmpeg';

describe('runTool', () => {
  it('passes arguments as they are, with no shell to read them', async () => {
    await expect(runTool('echo', ['$(id) ; rm -rf / `x`'], 5000)).resolves.toBe('$(id) ; rm -rf / `x`\n');
  });

  it('kills a run that takes longer than its time', async () => {
    const started = Date.now();
    await expect(runTool('sleep', ['10'], 300)).rejects.toThrow(/took longer than 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives the last lines of what a failed run said', async () => {
    const failed = runTool('ls', ['/nonexistent-townhall-path'], 5000);
    await expect(failed).rejects.toBeInstanceOf(MediaToolFailed);
    await expect(failed).rejects.toThrow(/ls failed: .*nonexistent-townhall-path/);
  });
});

describe('ffmpegAvailable', () => {
  it('is false for executables that are not there', async () => {
    await expect(
      ffmpegAvailable({ ffmpeg: '/nonexistent/ffmpeg', ffprobe: '/nonexistent/ffprobe', timeoutMs: 1000 }),
    ).resolves.toBe(false);
  });
});

describe('frameRateValue', () => {
  it.each([
    ['30/1', 30],
    ['30000/1001', 30000 / 1001],
    ['0/0', 0],
    ['25', 25],
  ])('reads %s', (rate, value) => {
    expect(frameRateValue(rate)).toBeCloseTo(value, 6);
  });
});
