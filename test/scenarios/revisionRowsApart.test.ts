/**
 * What a revision's report read stays what the revision's page and API
 * show: a bisection over the revision (its endpoint steps build and boot
 * the same commits, its verify and revert series boot the culprit again and
 * again) records in rows of its own, shown on the bisection's page, and
 * leaves every row of the revisions byte-identical.
 *
 * Real builds of a fixture tree and real QEMU boots.
 * Cost: 2 revisions and a bisection, about 25 s on 2 cores.
 */
import { commitChange, type FixtureRepo } from '../../fixtures/generator';
import { startScenarioStack, type ScenarioStack } from './support/scenarioStack';

let repo: FixtureRepo;
let stack: ScenarioStack;
const c: string[] = [];

interface RevisionApi {
  revision: { id: number; sha: string };
  builds: { id: number; workflowId: string; logKey: string; status: string; bisection: string | null }[];
  boots: {
    id: number;
    sha: string;
    workflowId: string;
    logKey: string;
    status: string;
    run: number;
    bisection: string | null;
  }[];
}

/** Every column of the revisions' own build and boot rows, as the database has them. */
async function revisionRows() {
  const { sql } = stack.db;
  return {
    builds: await sql`select * from builds where tree = 'apart' and sha = any(${c}) and scope = '' order by id`,
    boots: await sql`select * from boots where tree = 'apart' and sha = any(${c}) and scope = '' order by id`,
  };
}

let before: Awaited<ReturnType<typeof revisionRows>>;
let apiBefore: RevisionApi[];
const revisionApi = async () => {
  const { items } = await stack.api<{ items: { id: number }[] }>('/api/revisions?tree=apart');
  return Promise.all(items.map((x) => stack.api<RevisionApi>(`/api/revisions/${x.id}`)));
};

beforeAll(async () => {
  stack = await startScenarioStack({ tree: 'apart', labs: { rack: 2 }, verifyRuns: 3 });
  repo = stack.repo;
  c.push(stack.base);
  c.push(await commitChange(repo, { subject: 'fixture: change 1' }));
  await stack.runRevision('apart', 'master', c[1]);
  // the culprit is the revision itself: the bisection's endpoint, verify and revert children all build it
  c.push(await commitChange(repo, { subject: 'x86: fixture: panic in early init', effect: 'break-boot' }));
  await stack.runRevision('apart', 'master', c[2]);
  before = await revisionRows();
  apiBefore = await revisionApi();
  await stack.bisectionsDone();
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

it('the bisection ran over both revisions and confirmed the culprit with boots of its own', async () => {
  const { items } = await stack.api<{ items: { id: number; status: string; culpritSha: string }[] }>(
    '/api/bisections?tree=apart',
  );
  expect(items).toEqual([expect.objectContaining({ status: 'found', culpritSha: c[2] })]);
  const bisection = await stack.api<{ workflowId: string; boots: RevisionApi['boots'] }>(
    `/api/bisections/${items[0].id}`,
  );
  const bootsOf = (sha: string) => bisection.boots.filter((b) => b.sha === sha);
  expect(bootsOf(c[1]).length).toBeGreaterThanOrEqual(1); // the good endpoint
  expect(bootsOf(c[2]).length).toBeGreaterThanOrEqual(1 + 3); // the bad endpoint, then the verify series
  expect(bisection.boots.every((b) => b.bisection === bisection.workflowId)).toBe(true);
  // the bisection's page lists them, each linking to its boot page
  const html = await stack.page(`/bisections/${items[0].id}`);
  for (const b of bisection.boots) expect(html).toContain(`href="/boots/${b.id}"`);
});

it('leaves every build and boot row of the revisions byte-identical: status, workflow id, log key and the rest', async () => {
  const after = await revisionRows();
  expect(before.builds.length).toBe(2);
  expect(before.boots.length).toBeGreaterThanOrEqual(2);
  expect(after).toEqual(before);
});

it('shows the revisions their own results only, and the bisection its own', async () => {
  const apiAfter = await revisionApi();
  expect(apiAfter).toEqual(apiBefore);
  const { items } = await stack.api<{ items: { id: number }[] }>('/api/bisections?tree=apart');
  const { boots } = await stack.api<RevisionApi>(`/api/bisections/${items[0].id}`);
  for (const rev of apiAfter) {
    const html = await stack.page(`/revisions/${rev.revision.id}`);
    for (const b of rev.boots) expect(html).toContain(`href="/boots/${b.id}"`);
    for (const b of boots) expect(html).not.toContain(`href="/boots/${b.id}"`);
  }
  for (const rev of apiAfter) {
    expect(rev.builds.every((b) => b.bisection === null && b.workflowId.startsWith('build:'))).toBe(true);
    expect(rev.boots.every((b) => b.bisection === null && b.workflowId.startsWith('build:'))).toBe(true);
  }
});
