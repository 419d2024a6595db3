/**
 * Two labs with the same platform disagree on the same kernel: from one
 * commit on, the board in lab `east` trips over the kernel (its hardware
 * hits a bug the commit brings; the kernel really panics there) while the
 * board in lab `west` boots it fine. The maintainer must read "fails only in
 * lab east" in the boot report, as a regression, instead of a conflict that
 * nobody follows up; the bisection runs where it fails.
 *
 * Real builds of a fixture tree and real QEMU boots in both labs.
 * Cost: 3 revisions and a bisection, about 30 s on 2 cores.
 */
import { commitChange, type FixtureRepo } from '../../fixtures/generator';
import { board } from './support/boards';
import { prose, startScenarioStack, type RevisionRun, type ScenarioStack } from './support/scenarioStack';

let repo: FixtureRepo;
let stack: ScenarioStack;
const c: string[] = [];
/** the commits east's board cannot boot: c3 (the culprit) and its descendants */
const tripping = new Set<string>();
const r: RevisionRun[] = [];

beforeAll(async () => {
  stack = await startScenarioStack({
    tree: 'labs',
    labs: { east: 1, west: 1 },
    verifyRuns: 2,
    boards: { east: board((req) => tripping.has(req.sha)).adapter },
  });
  repo = stack.repo;
  c.push(stack.base);
  for (let i = 1; i <= 5; i++) {
    c.push(
      await commitChange(repo, {
        subject: i === 3 ? 'x86: fixture: map the ACPI tables early' : `fixture: change ${i}`,
      }),
    );
    if (i >= 3) tripping.add(c[i]);
  }
  r.push(await stack.runRevision('labs', 'master', c[1]));
  r.push(await stack.runRevision('labs', 'master', c[4]));
  r.push(await stack.runRevision('labs', 'master', c[5]));
  await stack.bisectionsDone();
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

it('reports a new regression that fails only in lab east, and says so where the failure is listed', () => {
  expect(r[0].bootReport).toMatch(/^Boots: 2 total, 2 passed, 0 failed/m);
  const text = r[1].bootReport;
  expect(text).toMatch(/^Boots: 2 total, 1 passed, 1 failed, 0 offline, 0 infra-error, 1 lab-specific$/m);
  expect(text).toMatch(/^Regressions \(1\)$/m);
  expect(text).toMatch(/^Lab-specific failures \(1\)$/m);
  expect(prose(text)).toMatch(
    /x86_64-defconfig on qemu-x86_64: fails only in lab east \(passes in lab west\) east: fail - \[ *[\d.]+\] Kernel panic/,
  );
  expect(prose(text).match(/fails only in lab east \(passes in lab west\)/g)).toHaveLength(2);
  expect(text).not.toMatch(/conflict/i);
});

it('goes on as the same regression, still only in lab east', () => {
  expect(r[2].bootReport).toMatch(/^Still failing \(1\)$/m);
  expect(prose(r[2].bootReport)).toContain('fails only in lab east (passes in lab west)');
});

it('tracks it in the API as a regression of lab east, and bisects it in lab east to the commit that trips it', async () => {
  const { items } = await stack.api<{ items: { onlyInLabs: string[]; firstBadSha: string; lastGoodSha: string }[] }>(
    '/api/regressions?tree=labs&active=true',
  );
  expect(items).toEqual([expect.objectContaining({ onlyInLabs: ['east'], firstBadSha: c[4], lastGoodSha: c[1] })]);
  const bisections = await stack.api<{ items: { lab: string; status: string; culpritSha: string }[] }>(
    '/api/bisections?tree=labs',
  );
  expect(bisections.items).toEqual([expect.objectContaining({ lab: 'east', status: 'found', culpritSha: c[3] })]);
});
