/**
 * A history that breaks, heals and breaks again on one board: a panic comes
 * in, is fixed some commits later, and comes back. The maintainers must see
 * one regression with its history (failed, fixed, failed again) and get one
 * bisection, not a new regression and a new bisection each time it flaps;
 * and the fix itself is believed only after a confirmation boot.
 *
 * Real builds of a fixture tree and real QEMU boots on a clean board.
 * Cost: 5 revisions and a bisection, about 40 s on 2 cores.
 */
import { commitChange, type FixtureRepo } from '../../fixtures/generator';
import { keepHistory } from '../replay/record';
import { prose, startScenarioStack, type RevisionRun, type ScenarioStack } from './support/scenarioStack';

let repo: FixtureRepo;
let stack: ScenarioStack;
const c: string[] = [];
/** r1 at c1 passes; r2 at c4 fails (panic from c3); r3 at c7 passes (fixed at c6); r4 at c9 fails (panic again from c8); r5 at c10 */
const r: RevisionRun[] = [];

const change = async (subject: string, effect?: 'break-boot' | 'fix-boot') =>
  c.push(await commitChange(repo, { subject, ...(effect ? { effect } : {}) }));

beforeAll(async () => {
  stack = await startScenarioStack({ tree: 'flap', labs: { bench: 2 }, verifyRuns: 2 });
  repo = stack.repo;
  c.push(stack.base);
  const test = async (i: number) => r.push(await stack.runRevision('flap', 'master', c[i]));
  await change('fixture: change 1');
  await test(1);
  await change('fixture: change 2');
  await change('x86: fixture: panic in early init', 'break-boot');
  await change('fixture: change 4');
  await test(4);
  await stack.bisectionsDone();
  await change('fixture: change 5');
  await change('x86: fixture: fix the early init panic', 'fix-boot');
  await change('fixture: change 7');
  await test(7);
  await change('x86: fixture: panic in early init, again', 'break-boot');
  await change('fixture: change 9');
  await test(9);
  await change('fixture: change 10');
  await test(10);
  await stack.bisectionsDone();
  // for the replay test (BF_RECORD_HISTORIES=1): failures confirmed, then a fix confirmed, with the flake-aware rounds
  await keepHistory('revisionPipeline-regression-confirmed', stack.client.workflow.getHandle(r[1].workflowId));
  await keepHistory('revisionPipeline-fix-confirmed', stack.client.workflow.getHandle(r[2].workflowId));
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

const heading = (text: string, title: string) => new RegExp(`^${title} \\(1\\)$`, 'm').test(text);

it('reports the regression, then its fix, then the same regression failing again with its history, then still failing', () => {
  expect(heading(r[0].bootReport, 'Regressions')).toBe(false);
  expect(heading(r[1].bootReport, 'Regressions')).toBe(true);
  expect(heading(r[2].bootReport, 'Fixed')).toBe(true);
  const again = r[3].bootReport;
  expect(heading(again, 'Failing again after a fix')).toBe(true);
  expect(heading(again, 'Regressions')).toBe(false);
  const short = (i: number) => c[i].slice(0, 12);
  expect(prose(again)).toContain(`first bad: v0.1-4-g`);
  expect(prose(again)).toMatch(new RegExp(`fixed at: v0\\.1-7-g\\w+ \\(${short(7)}\\)`));
  expect(prose(again)).toMatch(
    new RegExp(
      `history: failed at v0\\.1-4-g\\w+ \\(${short(4)}\\), fixed at v0\\.1-7-g\\w+ \\(${short(7)}\\), failed again at v0\\.1-9-g\\w+ \\(${short(9)}\\)`,
    ),
  );
  expect(heading(r[4].bootReport, 'Still failing')).toBe(true);
});

it('keeps one regression, reopened once, with its transitions, in the API', async () => {
  const { items } = await stack.api<{ items: { id: number; state: string; flaps: number; firstBadSha: string }[] }>(
    '/api/regressions?tree=flap&active=true',
  );
  expect(items).toEqual([expect.objectContaining({ state: 'still-failing', flaps: 1, firstBadSha: c[4] })]);
  const all = await stack.api<{ items: unknown[] }>('/api/regressions?tree=flap&active=false');
  expect(all.items).toEqual([]);
  const one = await stack.api<{ history: { sha: string; event: string }[]; lastBadSha: string }>(
    `/api/regressions/${items[0].id}`,
  );
  expect(one.history.map((h) => [h.event, h.sha])).toEqual([
    ['failed', c[4]],
    ['fixed', c[7]],
    ['failed-again', c[9]],
  ]);
  expect(one.lastBadSha).toBe(c[10]);
});

it('bisects it once, to the commit that first broke it, and mails that once', async () => {
  const { items } = await stack.api<{ items: { status: string; culpritSha: string; goodSha: string }[] }>(
    '/api/bisections?tree=flap',
  );
  expect(items).toEqual([expect.objectContaining({ status: 'found', culpritSha: c[3], goodSha: c[1] })]);
  const outbox = await stack.api<{ items: { subject: string }[] }>('/api/outbox');
  expect(outbox.items.filter((m) => m.subject.includes('bisection'))).toEqual([
    expect.objectContaining({ subject: expect.stringContaining(c[3].slice(0, 12)) }),
  ]);
});

it('believed the fix only after a confirmation boot of it passed too', async () => {
  const { items } = await stack.api<{ items: { id: number; sha: string }[] }>(`/api/revisions?tree=flap`);
  const fixing = items.find((x) => x.sha === c[7]);
  const { boots } = await stack.api<{ boots: { run: number; status: string }[] }>(`/api/revisions/${fixing?.id}`);
  expect(boots.length).toBeGreaterThanOrEqual(2);
  expect(boots.map((b) => b.status)).toEqual(boots.map(() => 'pass'));
  expect(boots.map((b) => b.run)).toEqual(boots.map((_, i) => i));
});
