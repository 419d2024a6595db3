import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KtapParser, TEST_PATH, parseKtap, pathSegment, type KtapResult } from '../../domain/ktap';

/** The lines of a template literal, without the indentation of its first line (ktap.rst's code blocks are tab-indented). */
function ktap(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = /^[\t ]*/.exec(lines[0])![0];
  return lines.map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
}

const brief = (results: KtapResult[]) => results.map((r) => `${r.status} ${r.path}`);
const byPath = (results: KtapResult[], path: string) => {
  const found = results.find((r) => r.path === path);
  if (!found) throw new Error(`no result ${path} in ${brief(results).join(', ')}`);
  return found;
};

describe('the examples of Documentation/dev-tools/ktap.rst (Linux 6.1)', () => {
  it('"An example of a test with two nested subtests"', () => {
    const { results, problems } = parseKtap(
      ktap(`
        KTAP version 1
        1..1
          KTAP version 1
          1..2
          ok 1 test_1
          not ok 2 test_2
        # example failed
        not ok 1 example`),
      { prefix: 'spec' },
    );
    expect(brief(results)).toEqual(['PASS spec.example.test_1', 'FAIL spec.example.test_2', 'FAIL spec.example']);
    expect(problems).toEqual([]);
    expect(byPath(results, 'spec.example')).toMatchObject({ subtests: 2, line: 8 });
    expect(byPath(results, 'spec.example').log).toContain('# example failed');
  });

  it('"An example format with multiple levels of nested testing"', () => {
    const { results, problems } = parseKtap(
      ktap(`
        KTAP version 1
        1..2
          KTAP version 1
          1..2
            KTAP version 1
            1..2
            not ok 1 test_1
            ok 2 test_2
          not ok 1 test_3
          ok 2 test_4 # SKIP
        not ok 1 example_test_1
        ok 2 example_test_2`),
      { prefix: 'spec' },
    );
    expect(brief(results)).toEqual([
      'FAIL spec.example_test_1.test_3.test_1',
      'PASS spec.example_test_1.test_3.test_2',
      'FAIL spec.example_test_1.test_3',
      'SKIP spec.example_test_1.test_4',
      'FAIL spec.example_test_1',
      'PASS spec.example_test_2',
    ]);
    expect(problems).toEqual([]);
  });

  it('"Example KTAP output": the hierarchy, statuses, skip reasons and diagnostics the document describes', () => {
    const { results, problems } = parseKtap(
      ktap(`
        KTAP version 1
        1..1
          KTAP version 1
          1..3
            KTAP version 1
            1..1
            # test_1: initializing test_1
            ok 1 test_1
          ok 1 example_test_1
            KTAP version 1
            1..2
            ok 1 test_1 # SKIP test_1 skipped
            ok 2 test_2
          ok 2 example_test_2
            KTAP version 1
            1..3
            ok 1 test_1
            # test_2: FAIL
            not ok 2 test_2
            ok 3 test_3 # SKIP test_3 skipped
          not ok 3 example_test_3
        not ok 1 main_test`),
      { prefix: 'spec' },
    );
    expect(problems).toEqual([]);
    expect(brief(results)).toEqual([
      'PASS spec.main_test.example_test_1.test_1',
      'PASS spec.main_test.example_test_1',
      'SKIP spec.main_test.example_test_2.test_1',
      'PASS spec.main_test.example_test_2.test_2',
      'PASS spec.main_test.example_test_2',
      'PASS spec.main_test.example_test_3.test_1',
      'FAIL spec.main_test.example_test_3.test_2',
      'SKIP spec.main_test.example_test_3.test_3',
      'FAIL spec.main_test.example_test_3',
      'FAIL spec.main_test',
    ]);
    // "test_1, which passes, and outputs the diagnostic message 'test_1: initializing test_1'"
    expect(byPath(results, 'spec.main_test.example_test_1.test_1').log).toEqual([
      '    # test_1: initializing test_1',
      '    ok 1 test_1',
    ]);
    expect(byPath(results, 'spec.main_test.example_test_2.test_1')).toMatchObject({
      directive: 'SKIP',
      reason: 'test_1 skipped',
    });
    // "test_2, which outputs the diagnostic line 'test_2: FAIL', and fails"
    expect(byPath(results, 'spec.main_test.example_test_3.test_2').log).toContain('    # test_2: FAIL');
    expect(byPath(results, 'spec.main_test')).toMatchObject({ subtests: 3, name: 'main_test' });
  });

  it('the example result lines: SKIP with a reason, TIMEOUT, diagnostic data without a directive', () => {
    const { results } = parseKtap(
      ktap(`
        KTAP version 1
        1..5
        ok 1 test_case_name
        not ok 2 test_case_name
        ok 3 test # SKIP necessary dependency unavailable
        not ok 4 test # TIMEOUT 30 seconds
        ok 5 check return code # rcode=0`),
      { prefix: 'spec' },
    );
    expect(results.map(({ path, status, directive, reason }) => ({ path, status, directive, reason }))).toEqual([
      { path: 'spec.test_case_name', status: 'PASS', directive: undefined, reason: undefined },
      { path: 'spec.test_case_name_2', status: 'FAIL', directive: undefined, reason: undefined },
      { path: 'spec.test', status: 'SKIP', directive: 'SKIP', reason: 'necessary dependency unavailable' },
      { path: 'spec.test_2', status: 'FAIL', directive: 'TIMEOUT', reason: '30 seconds' },
      { path: 'spec.check_return_code', status: 'PASS', directive: undefined, reason: 'rcode=0' },
    ]);
  });
});

describe('real kselftest output (run_kselftest.sh of Linux 6.1, built from linux-source on x86_64)', () => {
  const fixture = (name: string) => readFileSync(join(__dirname, name), 'utf8');

  it('timers and size: one document per collection, programs with and without their own KTAP', () => {
    const { results, problems } = parseKtap(fixture('kselftest-timers-size.x86_64.ktap'), { prefix: 'kselftest' });
    expect(problems).toEqual([]);
    expect(brief(results)).toEqual([
      'PASS kselftest.timers.posix_timers',
      'PASS kselftest.timers.nsleep-lat',
      'SKIP kselftest.timers.rtcpie',
      'PASS kselftest.timers.threadtest',
      'PASS kselftest.size.get_size.get_runtime_memory_use',
      'PASS kselftest.size.get_size',
    ]);
    // the program's own output is the log a maintainer reads (its [FAIL] lines are not results)
    const posix = byPath(results, 'kselftest.timers.posix_timers');
    expect(posix.log[0]).toBe('# selftests: timers: posix_timers');
    expect(posix.log).toContain('# Check itimer virtual... Diff too high: 3176941..[FAIL]');
    expect(posix.log[posix.log.length - 1]).toBe('ok 1 selftests: timers: posix_timers');
    expect(byPath(results, 'kselftest.timers.rtcpie').log).toContain(
      '# Default RTC /dev/rtc0 does not exist. Test Skipped!',
    );
    // get_size's YAML block and trailing plan ("# 1..1" after the result) are understood
    expect(byPath(results, 'kselftest.size.get_size')).toMatchObject({ subtests: 1, status: 'PASS' });
  });

  it('a TIMEOUT, a failing case under a program that exited 0, and harness-style names', () => {
    const { results, problems } = parseKtap(fixture('kselftest-timeout-breakpoints-core.x86_64.ktap'), {
      prefix: 'kselftest',
    });
    expect(problems).toEqual([]);
    expect(byPath(results, 'kselftest.timers.threadtest')).toMatchObject({
      status: 'FAIL',
      directive: 'TIMEOUT',
      reason: '2 seconds',
    });
    const breakpoints = results.filter((r) => r.path.startsWith('kselftest.breakpoints.breakpoint_test.'));
    expect(breakpoints).toHaveLength(110);
    expect(breakpoints.filter((r) => r.status !== 'PASS').map((r) => r.path)).toEqual([
      'kselftest.breakpoints.breakpoint_test.Test_int_3_trap',
    ]);
    expect(byPath(results, 'kselftest.breakpoints.breakpoint_test.Test_int_3_trap').log).toEqual([
      '# not ok 110 Test int 3 trap',
    ]);
    // the runner said ok: the program passed, its failing case is reported on its own
    expect(byPath(results, 'kselftest.breakpoints.breakpoint_test')).toMatchObject({ status: 'PASS', subtests: 110 });
    expect(byPath(results, 'kselftest.core.close_range_test.global_core_close_range').log).toEqual([
      '# # Starting 8 tests from 1 test cases.',
      '# #  RUN           global.core_close_range ...',
      '# #            OK  global.core_close_range',
      '# ok 1 global.core_close_range',
    ]);
    expect(results.filter((r) => r.path.startsWith('kselftest.core.'))).toHaveLength(9);
    expect(results.every((r) => TEST_PATH.test(r.path))).toBe(true);
  });
});

describe('KUnit-style output on a console', () => {
  it('4-space subtests with "# Subtest:", timestamps, caller ids, tabs, carriage returns and escape codes', () => {
    const console = [
      '[    0.512000][    T1] Run /init as init process',
      '[    0.600000][    T1] KTAP version 1\r',
      '[    0.600000][    T1] 1..2\r',
      '[    0.600001][    T1]     KTAP version 1\r',
      '[    0.600002][    T1]     # Subtest: list-kunit-test\r',
      '[    0.600003][    T1]     1..2\r',
      '[    0.600004][    T1]     ok 1 list_test_list_init\r',
      '[    0.600005][    T1]     # list_test_list_add: EXPECTATION FAILED at lib/list-test.c:77\r',
      '[    0.600006][    T1]     not ok 2 list_test_list_add\r',
      '[    0.600007][    T1] \x1b[1;31mnot ok 1 list-kunit-test\x1b[0m\r',
      '[    0.600008][    T1] \t# Subtest: time_test_cases',
      '[    0.600009][    T1] \t1..1',
      '[    0.600010][    T1] \tok 1 - time64_to_tm_test_date_range # SKIP no RTC',
      '[    0.600011][    T1] ok 2 - time_test_cases',
    ].join('\n');
    const { results, problems } = parseKtap(console, { prefix: 'kunit' });
    expect(problems).toEqual([]);
    expect(brief(results)).toEqual([
      'PASS kunit.list-kunit-test.list_test_list_init',
      'FAIL kunit.list-kunit-test.list_test_list_add',
      'FAIL kunit.list-kunit-test',
      'SKIP kunit.time_test_cases.time64_to_tm_test_date_range',
      'PASS kunit.time_test_cases',
    ]);
    expect(byPath(results, 'kunit.list-kunit-test.list_test_list_add').log).toEqual([
      '    # list_test_list_add: EXPECTATION FAILED at lib/list-test.c:77',
      '    not ok 2 list_test_list_add',
    ]);
  });
});

describe('directives and names', () => {
  it('maps TODO, XFAIL, ERROR and unknown directives as documented, and names kselftest results without a description', () => {
    const { results } = parseKtap(
      ktap(`
        TAP version 13
        1..8
        not ok 1 known_broken # TODO fix the allocator first
        ok 2 fixed_meanwhile # TODO fixed by accident
        ok 3 # XFAIL mremap fails as it should
        not ok 4 # error could not open /dev/kvm
        not ok 5 odd_one # FLAKY retried twice
        ok 6 # SKIP no hugepages
        not ok 7 skipped_anyway # skipped: needs root
        not ok 8 xfail_that_passed # XFAIL`),
      { prefix: 'x' },
    );
    expect(
      results.map(({ path, status, directive, xfail, reason }) => ({ path, status, directive, xfail, reason })),
    ).toEqual([
      { path: 'x.known_broken', status: 'PASS', directive: 'TODO', xfail: true, reason: 'fix the allocator first' },
      { path: 'x.fixed_meanwhile', status: 'PASS', directive: 'TODO', xfail: undefined, reason: 'fixed by accident' },
      {
        path: 'x.mremap_fails_as_it_should',
        status: 'PASS',
        directive: 'XFAIL',
        xfail: true,
        reason: 'mremap fails as it should',
      },
      {
        path: 'x.could_not_open_dev_kvm',
        status: 'ERROR',
        directive: 'ERROR',
        xfail: undefined,
        reason: 'could not open /dev/kvm',
      },
      { path: 'x.odd_one', status: 'FAIL', directive: undefined, xfail: undefined, reason: 'FLAKY retried twice' },
      { path: 'x.no_hugepages', status: 'SKIP', directive: 'SKIP', xfail: undefined, reason: 'no hugepages' },
      { path: 'x.skipped_anyway', status: 'SKIP', directive: 'SKIP', xfail: undefined, reason: 'needs root' },
      { path: 'x.xfail_that_passed', status: 'FAIL', directive: 'XFAIL', xfail: undefined, reason: undefined },
    ]);
  });

  it('names become safe, unique path segments; a name with nothing safe left is named by its number', () => {
    const { results } = parseKtap(
      ktap(`
        KTAP version 1
        1..5
        ok 1 mm/hugetlb: map 2.5 pages (ÿ) \\# not a directive
        ok 2 mm/hugetlb: map 2.5 pages (ÿ)
        ok 3 mm_hugetlb_map_2_5_pages
        ok 4 - ¿¡
        ok 5 ${'long_name_'.repeat(30)}`),
      { prefix: 'fixture.smoke' },
    );
    expect(results.map((r) => r.path)).toEqual([
      'fixture.smoke.mm_hugetlb_map_2_5_pages_not_a_directive',
      'fixture.smoke.mm_hugetlb_map_2_5_pages',
      'fixture.smoke.mm_hugetlb_map_2_5_pages_2',
      'fixture.smoke.test_4',
      `fixture.smoke.${'long_name_'.repeat(10)}`.replace(/_$/, ''),
    ]);
    expect(results[1].name).toBe('mm/hugetlb: map 2.5 pages (ÿ)');
    expect(pathSegment('selftests: net: ip.sh')).toBe('selftests_net_ip_sh');
  });

  it('refuses a prefix that is not a dotted path', () => {
    for (const prefix of ['', 'kselftest.', '.x', 'a..b', 'a b', 'kselftest/timers'])
      expect(() => new KtapParser({ prefix })).toThrow(/is not a dotted path of \[A-Za-z0-9_-\] segments/);
  });
});

describe('output that breaks off or contradicts itself: results so far plus an ERROR saying why', () => {
  it('a kernel that panics in the middle of a suite', () => {
    const console = [
      '[    1.000000] KTAP version 1',
      '[    1.000000] 1..3',
      '[    1.000001]     KTAP version 1',
      '[    1.000001]     # Subtest: ext4-inode-test',
      '[    1.000002]     1..1',
      '[    1.000003]     ok 1 inode_test_xtimestamp_decoding',
      '[    1.000004] ok 1 ext4-inode-test',
      '[    1.000005]     KTAP version 1',
      '[    1.000005]     # Subtest: mm-slab',
      '[    1.000006]     1..3',
      '[    1.000007]     ok 1 slab_alloc',
      '[    1.000008] BUG: kernel NULL pointer dereference, address: 0000000000000008',
      '[    1.000009] Oops: 0000 [#1] PREEMPT SMP NOPTI',
      '[    1.000010] RIP: 0010:kmem_cache_free+0x2a/0x3c0',
      '[    1.000011] Kernel panic - not syncing: Fatal exception',
      '[    1.000012] ---[ end Kernel panic - not syncing: Fatal exception ]---',
    ].join('\n');
    const { results, problems } = parseKtap(console, { prefix: 'kunit' });
    expect(brief(results)).toEqual([
      'PASS kunit.ext4-inode-test.inode_test_xtimestamp_decoding',
      'PASS kunit.ext4-inode-test',
      'PASS kunit.mm-slab.slab_alloc',
      'ERROR kunit.mm-slab',
      'ERROR kunit',
    ]);
    const slab = byPath(results, 'kunit.mm-slab');
    expect(slab.reason).toBe(
      'no result line (the output ended); plan 1..3 but only 1 result; ' +
        'BUG: kernel NULL pointer dereference, address: 0000000000000008 (line 12)',
    );
    expect(slab.subtests).toBe(1);
    expect(slab.log).toContain('Kernel panic - not syncing: Fatal exception');
    expect(byPath(results, 'kunit').reason).toBe(
      'plan 1..3 but only 2 results (the output ended); ' +
        'BUG: kernel NULL pointer dereference, address: 0000000000000008 (line 12)',
    );
    expect(problems).toEqual([
      `"mm-slab": ${slab.reason}`,
      'kunit: plan 1..3 but only 2 results (the output ended)',
      'kunit: BUG: kernel NULL pointer dereference, address: 0000000000000008 (line 12)',
    ]);
  });

  it('a kselftest program whose kernel died: the program is an ERROR named by the runner header', () => {
    const text = ktap(`
      TAP version 13
      1..2
      # selftests: timers: posix_timers
      # TAP version 13
      # 1..6
      # ok 1 Check itimer virtual
      [   12.345678] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [posix_timers:97]`);
    const { results } = parseKtap(text, { prefix: 'kselftest' });
    expect(brief(results)).toEqual([
      'PASS kselftest.timers.posix_timers.Check_itimer_virtual',
      'ERROR kselftest.timers.posix_timers',
      'ERROR kselftest',
    ]);
    expect(byPath(results, 'kselftest.timers.posix_timers').reason).toBe(
      'no result line (the output ended); plan 1..6 but only 1 result; ' +
        'watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [posix_timers:97] (line 7)',
    );
    expect(byPath(results, 'kselftest').reason).toMatch(
      /^plan 1\.\.2 but only 1 result \(the output ended\); watchdog: BUG/,
    );
  });

  it('a suite that says ok while its plan does not match is an ERROR, a failing one keeps FAIL with the reason', () => {
    const { results, problems } = parseKtap(
      ktap(`
        KTAP version 1
        1..3
          KTAP version 1
          1..3
          ok 1 a
          ok 2 b
        ok 1 short_suite
          KTAP version 1
          1..1
          ok 1 a
          ok 2 b
        ok 2 long_suite
          KTAP version 1
          1..3
          ok 1 a
        not ok 3 crashed_suite # exit=139`),
      { prefix: 's' },
    );
    expect(byPath(results, 's.short_suite')).toMatchObject({ status: 'ERROR', reason: 'plan 1..3 but only 2 results' });
    expect(byPath(results, 's.long_suite')).toMatchObject({ status: 'ERROR', reason: 'plan 1..1 but 2 results' });
    expect(byPath(results, 's.crashed_suite')).toMatchObject({
      status: 'FAIL',
      reason: 'exit=139; plan 1..3 but only 1 result',
    });
    expect(problems).toEqual([
      '"short_suite": plan 1..3 but only 2 results',
      '"long_suite": plan 1..1 but 2 results',
      '"crashed_suite": plan 1..3 but only 1 result',
    ]);
    expect(results.some((r) => r.path === 's')).toBe(false);
  });

  it('a result line lost on the console (a gap in the numbers) and a top level with more results than planned', () => {
    const { results } = parseKtap(
      ktap(`
        KTAP version 1
        1..2
          KTAP version 1
          1..3
          ok 1 a
          ok 3 c
        ok 1 suite
        ok 2 other
        ok 3 console_noise`),
      { prefix: 'p' },
    );
    expect(byPath(results, 'p.suite')).toMatchObject({
      status: 'ERROR',
      reason: 'test 3 at line 6 where test 2 was expected (results are missing); plan 1..3 but only 2 results',
    });
    expect(byPath(results, 'p')).toMatchObject({ status: 'ERROR', reason: 'plan 1..2 but 3 results' });
  });

  it('no KTAP at all, or a header and nothing more, is an ERROR, never an empty pass', () => {
    expect(
      parseKtap('Linux version 6.1.0\nBOOTFARM: boot ok\nok 1 looks like a result\n', { prefix: 'k' }).results,
    ).toEqual([
      expect.objectContaining({
        path: 'k',
        status: 'ERROR',
        reason: 'no KTAP output: no "KTAP version 1" or "TAP version N" line',
      }),
    ]);
    expect(brief(parseKtap('KTAP version 1\n', { prefix: 'k' }).results)).toEqual(['ERROR k']);
    expect(parseKtap('KTAP version 1\n', { prefix: 'k' }).results[0].reason).toBe('no test results (the output ended)');
    expect(parseKtap('TAP version 13\n1..0 # SKIP no tests for this arch\n', { prefix: 'k' }).results).toEqual([
      expect.objectContaining({ path: 'k', status: 'SKIP', reason: 'no tests for this arch' }),
    ]);
  });

  it('console lines interleaved into a suite (kernel messages at column 0, half-written lines) change nothing', () => {
    const { results, problems } = parseKtap(
      ktap(`
        KTAP version 1
        1..1
            KTAP version 1
            1..2
        [    3.141592] random: crng init done
        EXT4-fs (vda): mounted filesystem with ordered data mode
            ok 1 first
        ok not a result, just noise starting with ok
            ok 2 second
        ok 1 suite`),
      { prefix: 'n' },
    );
    // KTAP result lines have a number: "ok not a result" is an unknown line
    expect(problems).toEqual([]);
    expect(brief(results)).toEqual(['PASS n.suite.first', 'PASS n.suite.second', 'PASS n.suite']);
  });
});
