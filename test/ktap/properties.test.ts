import fc from 'fast-check';
import { KtapParser, MAX_LINE, TEST_PATH, parseKtap, type KtapResult } from '../../domain/ktap';

/** Fixed seed: a failure replays; FC_SEED=… explores other inputs. */
const seed = Number(process.env.FC_SEED ?? 20240516);
const runs = (numRuns: number) => ({ seed, numRuns });

// --- a tree of tests, and the ways kernels print one ----------------------------

interface Node {
  name: string;
  ok: boolean;
  skip: boolean;
  children: Node[];
}

/** names that are path segments already (pathSegment trims '_' at either end) */
const name = fc.stringMatching(/^[a-z](?:[a-z0-9_]{0,6}[a-z0-9])?$/);
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.record({
    name,
    ok: fc.boolean(),
    skip: fc.boolean(),
    children: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant<Node[]>([]),
      fc.uniqueArray(tie('node'), { maxLength: 3, selector: (n) => n.name }),
    ),
  }),
})).node;
const tree = fc.uniqueArray(node, { minLength: 1, maxLength: 4, selector: (n) => n.name });

type Style = 'ktap2' | 'kunit4' | 'tab' | 'kselftest';
const style = fc.constantFrom<Style>('ktap2', 'kunit4', 'tab', 'kselftest');

function resultLine(n: Node, i: number, printed: string): string {
  return `${n.ok ? 'ok' : 'not ok'} ${i + 1} ${printed}${n.skip ? ' # SKIP not here' : ''}`;
}

/** KTAP for `nodes` in one style; top-level names in kselftest style are `selftests: suite: <name>`. */
function render(nodes: Node[], s: Style, diag: boolean): string[] {
  const doc = (list: Node[], lead: string, top: boolean): string[] => {
    const lines = [
      `${lead}${top && s === 'kselftest' ? 'TAP version 13' : 'KTAP version 1'}`,
      `${lead}1..${list.length}`,
    ];
    list.forEach((n, i) => {
      const printed = top && s === 'kselftest' ? `selftests: suite: ${n.name}` : n.name;
      if (diag) lines.push(`${lead}# ${n.name}: starting`);
      if (n.children.length) {
        if (s === 'kselftest') lines.push(`${lead}# ${printed}`, ...doc(n.children, `${lead}# `, false));
        else {
          const inner = lead + { ktap2: '  ', kunit4: '    ', tab: '\t' }[s];
          const body = doc(n.children, inner, false);
          if (s === 'kunit4') body.splice(1, 0, `${inner}# Subtest: ${n.name}`);
          if (s === 'tab') body.splice(0, 1, `${inner}# Subtest: ${n.name}`);
          lines.push(...body);
        }
      }
      lines.push(`${lead}${resultLine(n, i, printed)}`);
    });
    return lines;
  };
  return doc(nodes, '', true);
}

/** What the parser must report: every test, children before their parent, with its printed status. */
function expected(nodes: Node[], s: Style, prefix: string): string[] {
  const walk = (list: Node[], path: string, top: boolean): string[] =>
    list.flatMap((n) => {
      const p = `${path}.${top && s === 'kselftest' ? `suite.${n.name}` : n.name}`;
      return [...walk(n.children, p, false), `${n.skip ? 'SKIP' : n.ok ? 'PASS' : 'FAIL'} ${p}`];
    });
  return walk(nodes, prefix, true);
}

const brief = (results: KtapResult[]) => results.map((r) => `${r.status} ${r.path}`);

/** The bounds every parse keeps, whatever it was fed. */
function checkBounds(results: KtapResult[], prefix: string, o: { maxResults: number; maxLogLines: number }) {
  expect(results.length).toBeLessThanOrEqual(o.maxResults + 1);
  expect(new Set(results.map((r) => r.path)).size).toBe(results.length);
  for (const r of results) {
    expect(r.path).toMatch(TEST_PATH);
    expect(r.path === prefix || r.path.startsWith(`${prefix}.`)).toBe(true);
    expect(['PASS', 'FAIL', 'SKIP', 'ERROR']).toContain(r.status);
    expect(r.log.length).toBeLessThanOrEqual(o.maxLogLines + 1);
    for (const l of r.log) expect(l.length).toBeLessThanOrEqual(MAX_LINE);
    expect((r.reason ?? '').length).toBeLessThanOrEqual(1001);
    expect(Number.isInteger(r.line) && r.line >= 0).toBe(true);
  }
}

describe('KTAP parser properties (fast-check)', () => {
  it('any tree printed in any style, with or without diagnostics, parses back exactly and with no problem', () => {
    fc.assert(
      fc.property(tree, style, fc.boolean(), (nodes, s, diag) => {
        const { results, problems } = parseKtap(render(nodes, s, diag).join('\n'), { prefix: 'prop' });
        expect(problems).toEqual([]);
        expect(brief(results)).toEqual(expected(nodes, s, 'prop'));
      }),
      runs(300),
    );
  });

  it('with fewer results allowed than printed, exactly that many are kept, and the rest is an ERROR', () => {
    fc.assert(
      fc.property(tree, style, fc.integer({ min: 1, max: 30 }), (nodes, s, maxResults) => {
        const all = expected(nodes, s, 'prop');
        const { results } = parseKtap(render(nodes, s, false).join('\n'), { prefix: 'prop', maxResults });
        const kept = results.filter((r) => r.path !== 'prop');
        expect(kept).toHaveLength(Math.min(all.length, maxResults));
        for (const r of kept) expect(all).toContain(`${r.status} ${r.path}`);
        expect(results.some((r) => r.path === 'prop' && r.status === 'ERROR')).toBe(all.length > maxResults);
      }),
      runs(300),
    );
  });

  it('cut off anywhere before its last result line, the output is never a silent pass', () => {
    fc.assert(
      fc.property(tree, style, fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), (nodes, s, diag, at) => {
        const lines = render(nodes, s, diag);
        const cut = Math.floor(at * (lines.length - 1)); // keeps lines [0, cut): the last line is always lost
        const full = parseKtap(lines.join('\n'), { prefix: 'prop' }).results;
        const { results, problems } = parseKtap(lines.slice(0, cut).join('\n'), { prefix: 'prop' });
        expect(results.some((r) => r.status === 'ERROR')).toBe(true);
        expect(problems.length).toBeGreaterThan(0);
        // what did come through is what the whole output says, where the output names a suite before
        // its result line (KUnit's "# Subtest:"; kselftest's runner does for programs, not deeper)
        if (s === 'kunit4' || s === 'tab') {
          const whole = new Map(full.map((r) => [r.path, r.status]));
          for (const r of results)
            if (r.status !== 'ERROR') expect(`${r.status} ${r.path}`).toBe(`${whole.get(r.path)} ${r.path}`);
        }
      }),
      runs(300),
    );
  });

  it('fed in any chunks, the parse is the same as all at once', () => {
    const text = fc.array(
      fc.oneof(
        fc.constantFrom('KTAP version 1', '1..3', '  ok 1 a', '  not ok 2 b # SKIP', 'ok 1 s', '# d', '\r', ''),
        fc.string({ maxLength: 20 }),
        fc.string({ minLength: MAX_LINE - 5, maxLength: MAX_LINE + 5 }),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(text, fc.array(fc.nat({ max: 30 }), { maxLength: 20 }), (lines, sizes) => {
        const whole = lines.join('\n');
        const parser = new KtapParser({ prefix: 'chunks' });
        let at = 0;
        for (const size of sizes) {
          parser.feed(whole.slice(at, at + size));
          at += size;
        }
        parser.feed(whole.slice(at));
        expect(parser.end()).toEqual(parseKtap(whole, { prefix: 'chunks' }));
      }),
      runs(200),
    );
  });

  it('any input at all: no throw, and the output stays within its bounds', () => {
    const vocabulary = fc.constantFrom(
      'KTAP version 1',
      'TAP version 13',
      '# TAP version 13',
      '# # KTAP version 1',
      '1..2',
      '1..0 # SKIP',
      '1..99999999999999999999',
      'ok 1 x',
      'not ok 2 y # TODO',
      'ok 99999999999999999999 big',
      '    ok 1 deep',
      '\t\tnot ok 1 - tab # ERROR e',
      '# Subtest: s',
      '    # Subtest: t',
      '# selftests: a: b',
      'ok 1 selftests: a: b',
      'Kernel panic - not syncing: x',
      'Bail out! no',
      '[    1.000000] ok 3 z',
      '\x1b[31m',
    );
    const line = fc.oneof(
      vocabulary,
      fc.tuple(fc.stringMatching(/^[ \t#]{0,12}$/), vocabulary).map(([lead, l]) => lead + l),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    const opts = fc.record({
      maxResults: fc.integer({ min: 1, max: 20 }),
      maxLogLines: fc.integer({ min: 1, max: 5 }),
      maxDepth: fc.integer({ min: 1, max: 6 }),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 120 }), opts, (lines, o) => {
        const { results } = parseKtap(lines.join('\n'), { prefix: 'any', ...o });
        checkBounds(results, 'any', o);
      }),
      runs(500),
    );
  });

  it('two hundred thousand results are bounded by maxResults', () => {
    const lines = ['KTAP version 1', '1..200000'];
    for (let i = 1; i <= 200_000; i++) lines.push(`ok ${i} case_${i}`);
    const { results } = parseKtap(lines.join('\n'), { prefix: 'big', maxResults: 1000 });
    checkBounds(results, 'big', { maxResults: 1000, maxLogLines: 20 });
    expect(results[results.length - 1]).toMatchObject({
      path: 'big',
      status: 'ERROR',
      reason: 'more than 1000 results: the rest were not kept',
    });
  });
});
