/**
 * A boot's console after its marker → per-test results of its plan
 * (domain/testResults.ts), on the fixture kernel's suite and on real
 * kselftest output: paths, statuses, the suite that is to blame when the
 * output breaks off, and what the boot's result may carry in workflow history.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootTests } from '../../domain/testPlans';
import {
  MAX_NOT_PASSING,
  summarizeTests,
  testsFromKtap,
  testsFromPosted,
  UnplannedTestError,
  withMissedTests,
  type TestResult,
} from '../../domain/testResults';
import type { BootResult } from '../../domain/types';

const ktap = (name: string) => readFileSync(join(__dirname, '../ktap', name), 'utf8');
const fixtureTests: BootTests = {
  suites: [
    { plan: 'smoke', suite: 'string', prefix: 'fixture' },
    { plan: 'smoke', suite: 'kernel', prefix: 'fixture' },
  ],
  timeoutMs: 30_000,
};
const kselftests = (...suites: string[]): BootTests => ({
  suites: suites.map((suite) => ({ plan: `kselftest-${suite}`, suite, prefix: 'kselftest' })),
  timeoutMs: 300_000,
});
const statuses = (results: TestResult[]) => Object.fromEntries(results.map((r) => [r.path, r.status]));

const FIXTURE_OK = `KTAP version 1
1..2
  KTAP version 1
  # Subtest: string
  1..3
  ok 1 strlen
  ok 2 strncmp
  ok 3 memcpy
ok 1 string
  KTAP version 1
  # Subtest: kernel
  1..3
  ok 1 cmdline
  ok 2 printk_format
  ok 3 modules # SKIP CONFIG_MODULES is not set
ok 2 kernel
# Totals: pass:5 fail:0 skip:1
`;

describe('per-test results from the console after the boot marker', () => {
  it("maps the fixture kernel's suites to fixture.<suite>.<case>, with lines of the stored console", () => {
    const { results, problems } = testsFromKtap(FIXTURE_OK, fixtureTests, { lineOffset: 100 });
    expect(problems).toEqual([]);
    expect(statuses(results)).toEqual({
      'fixture.string.strlen': 'PASS',
      'fixture.string.strncmp': 'PASS',
      'fixture.string.memcpy': 'PASS',
      'fixture.string': 'PASS',
      'fixture.kernel.cmdline': 'PASS',
      'fixture.kernel.printk_format': 'PASS',
      'fixture.kernel.modules': 'SKIP',
      'fixture.kernel': 'PASS',
    });
    const memcpy = results.find((r) => r.path === 'fixture.string.memcpy')!;
    expect(memcpy).toMatchObject({ plan: 'smoke', line: 108, subtests: 0 });
    expect(results.find((r) => r.path === 'fixture.kernel.modules')!.reason).toBe('CONFIG_MODULES is not set');
  });

  it('reports a broken case as FAIL with its diagnostics, and its suite as FAIL', () => {
    const broken = FIXTURE_OK.replace(
      '  ok 3 memcpy\nok 1 string',
      '  # memcpy: EXPECTATION FAILED at drivers/fixture/testbug_1.c:5\n  # memcpy: lib/string: copy backwards\n  not ok 3 memcpy\nnot ok 1 string',
    );
    const { results } = testsFromKtap(broken, fixtureTests);
    expect(statuses(results)).toMatchObject({ 'fixture.string.memcpy': 'FAIL', 'fixture.string': 'FAIL' });
    expect(results.find((r) => r.path === 'fixture.string.memcpy')!.log).toEqual(
      expect.arrayContaining(['  # memcpy: EXPECTATION FAILED at drivers/fixture/testbug_1.c:5']),
    );
  });

  it('a kernel that panics in the middle of a suite: the cases seen, and an ERROR for the suite that did not finish', () => {
    const cut =
      FIXTURE_OK.slice(0, FIXTURE_OK.indexOf('  ok 2 printk_format')) +
      'Kernel panic - not syncing: fixture.test_panic\n';
    const { results } = testsFromKtap(cut, fixtureTests);
    expect(statuses(results)).toMatchObject({
      'fixture.string': 'PASS',
      'fixture.kernel.cmdline': 'PASS',
      'fixture.kernel': 'ERROR',
    });
    expect(results.find((r) => r.path === 'fixture.kernel')!.reason).toMatch(/Kernel panic - not syncing/);
    expect(results.some((r) => r.status === 'PASS' && r.path === 'fixture.kernel.printk_format')).toBe(false);
  });

  it('output that stops between two suites: the finished suite stands, the missing one is an ERROR saying so', () => {
    const cut = FIXTURE_OK.slice(0, FIXTURE_OK.indexOf('ok 1 string') + 'ok 1 string\n'.length);
    const { results, problems } = testsFromKtap(cut, fixtureTests, { stopped: 'stopped at the timeout of 30s' });
    expect(statuses(results)).toMatchObject({ 'fixture.string': 'PASS', 'fixture.kernel': 'ERROR' });
    expect(results.find((r) => r.path === 'fixture.kernel')!.reason).toMatch(
      /^no results: the suite printed nothing after the boot marker; plan 1\.\.2 but only 1 result.*stopped at the timeout of 30s$/,
    );
    expect(problems.length).toBeGreaterThan(0);
  });

  it('no KTAP at all after the marker: every planned suite is an ERROR, never a silent pass', () => {
    const { results } = testsFromKtap(
      '/init: cannot run tests\nreboot: Restarting system\n',
      kselftests('timers', 'size'),
    );
    expect(statuses(results)).toEqual({ 'kselftest.timers': 'ERROR', 'kselftest.size': 'ERROR' });
    expect(results[0].reason).toMatch(/printed nothing.*no KTAP output/);
  });

  it('real kselftest output: one document per collection, programs as kselftest.<collection>.<program>, their own KTAP nested', () => {
    const { results, problems } = testsFromKtap(
      ktap('kselftest-timers-size.x86_64.ktap'),
      kselftests('timers', 'size'),
    );
    expect(problems).toEqual([]);
    expect(statuses(results)).toEqual({
      'kselftest.timers.posix_timers': 'PASS',
      'kselftest.timers.nsleep-lat': 'PASS',
      'kselftest.timers.rtcpie': 'SKIP',
      'kselftest.timers.threadtest': 'PASS',
      'kselftest.size.get_size.get_runtime_memory_use': 'PASS',
      'kselftest.size.get_size': 'PASS',
    });
    expect(results.find((r) => r.path === 'kselftest.timers.rtcpie')!.plan).toBe('kselftest-timers');
  });

  it('leaves out suites the plan does not run, and says so', () => {
    const { results, problems } = testsFromKtap(
      ktap('kselftest-timeout-breakpoints-core.x86_64.ktap'),
      kselftests('size'),
    );
    expect(Object.keys(statuses(results))).toEqual([
      'kselftest.size.get_size.get_runtime_memory_use',
      'kselftest.size.get_size',
    ]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^results of suites the plan does not run were left out: timers \(2\), breakpoints \(\d+\), core \(\d+\)$/,
      ),
    ]);
  });

  it('a collection cut short is an ERROR of that collection; one that never started is an ERROR too', () => {
    const text = ktap('kselftest-timers-size.x86_64.ktap');
    const cut = text.slice(0, text.indexOf('# selftests: timers: rtcpie'));
    const { results } = testsFromKtap(cut, kselftests('timers', 'size'));
    expect(statuses(results)).toEqual({
      'kselftest.timers.posix_timers': 'PASS',
      'kselftest.timers.nsleep-lat': 'PASS',
      'kselftest.timers': 'ERROR',
      'kselftest.size': 'ERROR',
    });
    expect(results.find((r) => r.path === 'kselftest.timers')!.reason).toMatch(/plan 1\.\.4 but only 2 results/);
    // a collection whose first program hangs: the runner's header names it
    const hung = 'TAP version 13\n1..4\n# selftests: timers: posix_timers\n# Testing posix timers...\n';
    expect(statuses(testsFromKtap(hung, kselftests('timers')).results)).toEqual({ 'kselftest.timers': 'ERROR' });
  });

  it("a TIMEOUT is the program's failure, kept as FAIL with its reason", () => {
    const { results } = testsFromKtap(ktap('kselftest-timeout-breakpoints-core.x86_64.ktap'), kselftests('timers'));
    expect(results.find((r) => r.path === 'kselftest.timers.threadtest')).toMatchObject({
      status: 'FAIL',
      reason: 'TIMEOUT 2 seconds',
    });
  });
});

describe("what a boot's result carries", () => {
  const many: TestResult[] = Array.from({ length: 500 }, (_, i) => ({
    path: `kselftest.big.case_${i}`,
    plan: 'p',
    status: i % 2 ? 'FAIL' : 'PASS',
    reason: 'x'.repeat(5000),
    log: ['a line'],
    subtests: 0,
  }));

  it('counts every result but lists at most 100 that did not pass, with short reasons', () => {
    const summary = summarizeTests(many, ['p'.repeat(3000)], { focus: ['kselftest.big.case_3', 'kselftest.big.nope'] });
    expect(summary.counts).toEqual({ PASS: 250, FAIL: 250, SKIP: 0, ERROR: 0, MISS: 0 });
    expect(summary.notPassing).toHaveLength(MAX_NOT_PASSING);
    expect(summary.notPassingOmitted).toBe(150);
    expect(summary.notPassing[0].reason!.length).toBeLessThanOrEqual(201);
    expect(summary.focus).toEqual({ 'kselftest.big.case_3': 'FAIL', 'kselftest.big.nope': 'MISS' });
    expect(JSON.stringify(summary).length).toBeLessThan(32 * 1024);
  });

  it('a boot that failed, or that no lab answered, has every planned suite MISS, not FAIL', () => {
    const failed: BootResult = {
      status: 'fail',
      platform: 'p',
      lab: 'l',
      durationMs: 1,
      message: 'Kernel panic - not syncing: x',
    };
    const out = withMissedTests(failed, kselftests('timers', 'size'));
    expect(out.tests).toEqual({
      counts: { PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0, MISS: 2 },
      notPassing: [
        {
          path: 'kselftest.timers',
          plan: 'kselftest-timers',
          status: 'MISS',
          reason: 'not run: the boot ended fail: Kernel panic - not syncing: x',
        },
        {
          path: 'kselftest.size',
          plan: 'kselftest-size',
          status: 'MISS',
          reason: 'not run: the boot ended fail: Kernel panic - not syncing: x',
        },
      ],
    });
    expect(withMissedTests(failed, undefined)).toBe(failed);
    const answered = { ...failed, tests: out.tests };
    expect(withMissedTests(answered, kselftests('timers'))).toBe(answered);
  });

  it('structured results posted by a lab must belong to the plan; silent suites are ERRORs', () => {
    const tests = kselftests('timers', 'size');
    const { results } = testsFromPosted(
      [
        { path: 'kselftest.timers.posix_timers', status: 'PASS' },
        { path: 'kselftest.timers', status: 'PASS' },
      ],
      tests,
    );
    expect(statuses(results)).toEqual({
      'kselftest.timers.posix_timers': 'PASS',
      'kselftest.timers': 'PASS',
      'kselftest.size': 'ERROR',
    });
    expect(results.find((r) => r.path === 'kselftest.timers')!.subtests).toBe(1);
    expect(() => testsFromPosted([{ path: 'kselftest.timersx.a', status: 'PASS' }], tests)).toThrow(UnplannedTestError);
    expect(() =>
      testsFromPosted(
        [
          { path: 'kselftest.size.a', status: 'PASS' },
          { path: 'kselftest.size.a', status: 'FAIL' },
        ],
        tests,
      ),
    ).toThrow('kselftest.size.a is given twice');
  });
});
