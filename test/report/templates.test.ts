/**
 * The report model read from a real database with every kind of result, and
 * the text and MJML templates fed with it.
 */
import mjml2html from 'mjml';
import { buildReportModel, type ReportModel } from '../../activities/report/model';
import { renderText } from '../../activities/report/text';
import { renderHtml, reportMjml } from '../../activities/report/html';
import { reportSubject } from '../../activities/report/subject';
import { clip, wrap, WIDTH } from '../../activities/report/textLayout';
import { createRegressionActivities } from '../../activities/report/regressions';
import { freshDatabase, type TestDatabase } from '../harness/services';
import { DAY, seedRevision, type SeedBuild } from './seed';

const DASHBOARD = 'https://bootfarm.example.org';

describe('text layout', () => {
  it('wraps prose at spaces within 80 columns, with a hanging indent', () => {
    const lines = wrap('word '.repeat(60), '  ', '    ');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((l) => l.length <= WIDTH)).toBe(true);
    expect(lines[0].startsWith('  word')).toBe(true);
    expect(lines[1].startsWith('    word')).toBe(true);
  });

  it('splits a long token that is not a URL, and leaves a URL whole on a line of its own', () => {
    const path = `drivers/${'very_long_directory_name/'.repeat(5)}file.c`;
    const split = wrap(`error in ${path}`, '  ');
    expect(split.every((l) => l.length <= WIDTH)).toBe(true);
    expect(split.join('').replace(/ /g, '')).toContain(path.replace(/ /g, ''));

    const url = `https://storage.example.org/${'segment/'.repeat(12)}console.log`;
    const lines = wrap(`log: ${url}`, '    ');
    expect(lines).toEqual(['    log:', url]);
  });

  it('clips with a visible mark and drops control characters and tabs', () => {
    expect(clip('x'.repeat(100), 20)).toBe(`${'x'.repeat(17)}...`);
    expect(clip('a\tb\u0007c\r\nd', 80)).toBe('a  b c d');
  });
});

describe('the report model and its templates, from every kind of result in a real PostgreSQL', () => {
  let db: TestDatabase;
  let model: ReportModel;
  const tree = 'stable';
  const branch = 'linux-6.1.y';
  const t0 = new Date('2026-11-20T08:00:00Z');
  const shas = ['a1'.repeat(20), 'b2'.repeat(20), 'c3'.repeat(20), 'd4'.repeat(20)];

  /** day 0 all pass; days 1-2 the still-failing and fixed series fail; day 3 is reported */
  function builds(day: number): SeedBuild[] {
    const last = day === 3;
    return [
      {
        config: 'x86_64-defconfig',
        status: 'pass',
        warnings: last ? 1 : 0,
        boots: [
          {
            platform: 'qemu-x86_64',
            lab: 'lab-a',
            status: last ? 'fail' : 'pass',
            message: 'BUG: kernel NULL pointer dereference, address: 0000000000000008 <tag> & "quotes"',
          },
          {
            platform: 'qemu-x86_64',
            lab: 'lab-b',
            status: 'pass',
            tests: [
              { path: 'kselftest.timers.posix_timers', status: 'PASS' },
              { path: 'kselftest.timers.rtcpie', status: 'SKIP', reason: 'no RTC' },
              // failing since day 2: the earlier revision's row must not be counted here
              {
                path: 'kselftest.size.get_size',
                status: last || day === 2 ? 'FAIL' : 'PASS',
                reason: 'exit=1 <tag> & "quotes"',
                excerpt: [
                  ...Array.from({ length: 8 }, (_, i) => `# get_size: line ${i}`),
                  `# ${'a very long diagnostic line '.repeat(5)}`,
                ].join('\n'),
              },
            ],
          },
          // still failing since day 1
          {
            platform: 'qemu-x86_64-uefi-secure-boot-with-a-rather-long-name',
            lab: 'lab-a',
            status: day >= 1 ? 'fail' : 'pass',
          },
          // failed on days 1-2, fixed on day 3
          {
            platform: 'qemu-x86_64-smp',
            lab: 'lab-a',
            status: day === 1 || day === 2 ? 'fail' : 'pass',
            tests: [
              { path: 'kselftest.timers.posix_timers', status: 'PASS' },
              { path: 'kselftest.size', status: 'ERROR', reason: 'the output ended inside this suite' },
            ],
          },
          {
            platform: 'qemu-x86_64-kvm',
            lab: 'lab-c',
            status: last ? 'infra-error' : 'pass',
            message: 'qemu: could not open /dev/kvm',
          },
          { platform: 'qemu-x86_64-numa', lab: 'lab-c', status: last ? 'running' : 'pass' },
        ],
      },
      {
        config: 'i386-defconfig',
        arch: 'i386',
        status: last ? 'infra-error' : 'pass',
        message: 'builder ran out of disk space',
      },
    ];
  }

  beforeAll(async () => {
    db = await freshDatabase();
    const regressions = createRegressionActivities({ sql: db.sql });
    for (let day = 0; day <= 3; day++) {
      await seedRevision(db.sql, {
        tree,
        branch,
        sha: shas[day],
        describe: `v6.1.${100 + day}`,
        subject: 'Linux 6.1.1xx — Grüße',
        startedAt: new Date(t0.getTime() + day * DAY),
        builds: builds(day),
      });
      await regressions.recordRegressions({ tree, branch, sha: shas[day] });
    }
    model = await buildReportModel(db.sql, { tree, branch, sha: shas[3], dashboardUrl: DASHBOARD });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('counts one boot per platform and lab, lab-specific failures apart, unfinished boots as pending', () => {
    expect(model.boots).toEqual({
      total: 6,
      pass: 2,
      fail: 2,
      offline: 0,
      infraError: 1,
      skip: 0,
      pending: 1,
      labSpecific: 1,
    });
    expect(model.builds).toMatchObject({ total: 2, pass: 1, fail: 0, infraError: 1, warnings: 1 });
    expect(reportSubject(model, 'boot')).toBe(
      'stable/linux-6.1.y boot: 6 boots: 2 failed, 2 passed with 1 infra-error, 1 pending, 1 lab-specific (v6.1.103)',
    );
    expect(reportSubject(model, 'build')).toBe(
      'stable/linux-6.1.y build: 2 builds: 0 failed, 1 passed, 1 infra-error, 0 errors, 1 warning (v6.1.103)',
    );
  });

  it('puts new before still-failing before fixed, with the days and the describe of both ends; a failure in one lab of two is a lab-specific regression', () => {
    expect(model.regressions.map((r) => [r.state, r.platform])).toEqual([
      ['new-regression', 'qemu-x86_64'],
      ['still-failing', 'qemu-x86_64-uefi-secure-boot-with-a-rather-long-name'],
      ['fixed', 'qemu-x86_64-smp'],
    ]);
    expect(model.regressions[0]).toMatchObject({ onlyInLabs: ['lab-a'], passingInLabs: ['lab-b'] });
    expect(model.regressions[1]).toMatchObject({
      failingDays: 2,
      lastGoodDescribe: 'v6.1.100',
      firstBadDescribe: 'v6.1.101',
    });
    expect(model.labSpecific).toEqual([
      {
        config: 'x86_64-defconfig',
        platform: 'qemu-x86_64',
        failingLabs: ['lab-a'],
        passingLabs: ['lab-b'],
        state: 'new-regression',
        results: [
          expect.objectContaining({ lab: 'lab-a', status: 'fail' }),
          expect.objectContaining({ lab: 'lab-b', status: 'pass' }),
        ],
      },
    ]);
  });

  it('renders a text part of 80 columns with no markup, values as they are', () => {
    for (const kind of ['build', 'boot'] as const) {
      const text = renderText(model, kind);
      expect(text.split('\n').filter((line) => [...line].length > WIDTH)).toEqual([]);
      expect(text).not.toMatch(/&(amp|lt|gt|quot|#\d+);/);
    }
    const boot = renderText(model, 'boot');
    expect(boot).toContain('Still failing (1)');
    expect(boot).toMatch(
      /last good: v6\.1\.100 \(a1a1a1a1a1a1\), first bad: v6\.1\.101 \(b2b2b2b2b2b2\),\s+failing since 2 days/,
    );
    expect(boot).toContain('Fixed (1)');
    expect(boot).toMatch(
      /Lab-specific failures \(1\)\n-+\n {2}x86_64-defconfig on qemu-x86_64: fails only in lab lab-a \(passes in lab lab-b\)\n {4}lab-a: fail - BUG: kernel NULL pointer dereference, address:\n {6}0000000000000008 <tag> & "quotes"\n {6}https:\/\/bootfarm\.example\.org\/boots\/\d+\n {4}lab-b: pass\n/,
    );
    expect(boot).toContain('Subject:   Linux 6.1.1xx — Grüße');
    expect(boot.indexOf('Still failing')).toBeLessThan(boot.indexOf('Fixed'));
  });

  it('has a test section per platform from the counted boots of this revision only, failing paths with their log excerpt', () => {
    expect(model.tests.map((t) => [t.platform, t.total, t.counts])).toEqual([
      ['qemu-x86_64', 3, { PASS: 1, FAIL: 1, SKIP: 1, ERROR: 0, MISS: 0 }],
      ['qemu-x86_64-smp', 2, { PASS: 1, FAIL: 0, SKIP: 0, ERROR: 1, MISS: 0 }],
    ]);
    const [x86] = model.tests;
    expect(x86.failures).toEqual([
      {
        path: 'kselftest.size.get_size',
        status: 'FAIL',
        config: 'x86_64-defconfig',
        lab: 'lab-b',
        reason: 'exit=1 <tag> & "quotes"',
        // the last 5 lines
        excerpt: [
          '# get_size: line 4',
          '# get_size: line 5',
          '# get_size: line 6',
          '# get_size: line 7',
          `# ${'a very long diagnostic line '.repeat(5)}`,
        ],
        pageUrl: expect.stringMatching(/^https:\/\/bootfarm\.example\.org\/boots\/\d+$/),
      },
    ]);
    const text = renderText(model, 'boot');
    expect(text).toContain('Tests (5 tests, 2 failed)\n------------------------');
    expect(text).toContain(
      'qemu-x86_64: 3 tests, 1 passed, 1 failed, 1 skipped\n' +
        '  FAIL kselftest.size.get_size\n' +
        '    x86_64-defconfig (lab-b): exit=1 <tag> & "quotes"\n' +
        '    | # get_size: line 4\n',
    );
    expect(text).toContain(`    | # get_size: line 7\n    | # a very long diagnostic line`);
    expect(text).toMatch(/qemu-x86_64-smp: 2 tests, 1 passed, 0 failed, 1 errors\n {2}ERROR kselftest\.size\n/);
    expect(text).not.toContain('line 3');
    // a build report has no test section
    expect(renderText(model, 'build')).not.toContain('Tests (');
  });

  it('renders valid MJML (strict) that escapes every value', async () => {
    for (const kind of ['build', 'boot'] as const) {
      const result = await mjml2html(reportMjml(model, kind), { validationLevel: 'strict' });
      expect(result.errors).toEqual([]);
    }
    const html = await renderHtml(model, 'boot');
    expect(html).toContain('&lt;tag&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('<code>kselftest.size.get_size</code>');
    expect(html).toContain('exit=1 &lt;tag&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toContain('<tag>');
  });
});
