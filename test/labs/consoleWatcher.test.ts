import { ConsoleWatcher, compilePattern } from '../../activities/labs/consoleWatcher';

const patterns = { successPattern: 'BOOTFARM: boot ok', failurePatterns: ['Kernel panic', 'Oops:'] };

describe('console watcher', () => {
  it('decides on the first matching line, however the text is split into chunks', () => {
    const text =
      '\x1b[2J\x1b[0mSeaBIOS\r\n[    0.000000] Linux version 6.1.0\r\n[    0.100000] Kernel panic - not syncing: VFS\r\nBOOTFARM: boot ok\r\n';
    for (const size of [1, 3, 7, text.length]) {
      const w = new ConsoleWatcher(patterns);
      for (let i = 0; i < text.length; i += size) w.feed(text.slice(i, i + size));
      expect(w.end()).toEqual({
        status: 'fail',
        line: '[    0.100000] Kernel panic - not syncing: VFS',
        lineNumber: 3,
        pattern: 'Kernel panic',
      });
      expect(w.lines).toBe(4);
    }
  });

  it('matches a prompt that never gets a newline, and completes a deciding line that arrives in pieces', () => {
    const prompt = new ConsoleWatcher({ successPattern: '/ # ', failurePatterns: [] });
    expect(prompt.feed('Run /init as init process\n/ # ')).toMatchObject({
      status: 'pass',
      line: '/ #',
      lineNumber: 2,
    });

    const panic = new ConsoleWatcher(patterns);
    expect(panic.feed('[ 1.0] Kernel panic - not')).toMatchObject({
      status: 'fail',
      line: '[ 1.0] Kernel panic - not',
    });
    panic.feed(' syncing: Attempted to kill init!\n[ 1.1] BOOTFARM: boot ok\n');
    expect(panic.verdict).toMatchObject({
      status: 'fail',
      line: '[ 1.0] Kernel panic - not syncing: Attempted to kill init!',
      lineNumber: 1,
    });
  });

  it('takes /regular expressions/ and plain substrings, and refuses an empty pattern', () => {
    const w = new ConsoleWatcher({ successPattern: '/login: *$/', failurePatterns: ['/BUG: (soft|hard) lockup/i'] });
    expect(w.feed('buildroot login: x\n')).toBeUndefined();
    expect(w.feed('buildroot login: \n')).toMatchObject({ status: 'pass', pattern: '/login: *$/' });
    expect(
      new ConsoleWatcher({ successPattern: 'ok', failurePatterns: ['/bug: HARD lockup/i'] }).feed(
        'BUG: hard LOCKUP on CPU1\n',
      ),
    ).toMatchObject({ status: 'fail' });
    expect(compilePattern('a.b').test('axb')).toBe(false);
    expect(() => compilePattern('')).toThrow(/empty/);
  });

  it('says nothing until a pattern matches', () => {
    const w = new ConsoleWatcher(patterns);
    expect(w.feed('[ 0.0] Linux version\n[ 0.1] Run /init\n')).toBeUndefined();
    expect(w.end()).toBeUndefined();
    expect(w.lastLine).toBe('[ 0.1] Run /init');
  });
});
