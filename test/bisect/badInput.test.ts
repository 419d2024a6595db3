/**
 * Bad input to a bisection, refused before anything starts: bisection
 * settings out of range at `bootfarm config check`, and a range whose good
 * commit is not an ancestor of its bad one at `bootfarm bisect` (real CLI,
 * real fixture repository, the run's Temporal dev server: nothing started).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createBranch, commitChange, linearHistory, type FixtureRepo } from '../../fixtures/generator';
import { rangeProblem } from '../../plumbing/git/ancestry';
import { runOk } from '../../plumbing/git/command';
import { sha12, workflowIds } from '../../domain/ids';
import { temporalAddress, temporalClient } from '../harness/services';
import { expectOneLineError } from '../harness/oneLineError';
import { testConfigYaml } from '../support/testConfig';

const BIN = join(__dirname, '..', '..', 'bin', 'bootfarm.js');

function bootfarm(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BOOTFARM_CONFIG: '', DATABASE_URL: '', TEMPORAL_ADDRESS: temporalAddress() },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let root: string;
let repo: FixtureRepo;
let shas: string[];
/** a commit on a side branch forked from shas[2]: not an ancestor of shas[5] */
let side: string;

const configYaml = (url: string, bisect = '{}') => testConfigYaml({ url, bisect, dataDir: join(root, 'state') });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bf-bisect-input-'));
  ({ repo, shas } = await linearHistory(join(root, 'repo'), 5));
  await createBranch(repo, 'side', shas[2]);
  side = await commitChange(repo, { subject: 'side: a change' }, { branch: 'side' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bisection settings out of range', () => {
  it.each([
    ['{ stepRuns: 0 }', /:\d+: trees\[0\]\.bisect\.stepRuns: boots per bisection step: at least 1$/],
    ['{ stepRuns: 12 }', /:\d+: trees\[0\]\.bisect\.stepRuns: boots per bisection step: at most 9/],
    ['{ stepRuns: 1.5 }', /:\d+: trees\[0\]\.bisect\.stepRuns: boots per bisection step: a whole number from 1 to 9$/],
    ['{ flakeThreshold: 0.8 }', /:\d+: trees\[0\]\.bisect\.flakeThreshold: flake rate threshold: at most 0\.5/],
    [
      '{ flakeThreshold: -0.1 }',
      /:\d+: trees\[0\]\.bisect\.flakeThreshold: flake rate threshold: .*not a negative one$/,
    ],
    ['{ flakeThreshold: "5%" }', /:\d+: trees\[0\]\.bisect\.flakeThreshold: flake rate threshold: a share of boots/],
  ])('config check refuses bisect: %s in one line', async (bisect, message) => {
    const file = join(root, `bad-${bisect.replace(/\W+/g, '_')}.yaml`);
    await writeFile(file, configYaml(repo.url, bisect));
    expectOneLineError(bootfarm(['config', 'check', file]), message);
  });

  it('config check accepts them in range', async () => {
    const file = join(root, 'good.yaml');
    await writeFile(file, configYaml(repo.url, '{ stepRuns: 3, flakeThreshold: 0.1 }'));
    const r = bootfarm(['config', 'check', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('a bisection range whose good commit is not an ancestor of its bad one', () => {
  it('names why in one line', async () => {
    expect(await rangeProblem(repo.dir, shas[1], shas[5])).toBeUndefined();
    expect(await rangeProblem(repo.dir, shas[5], shas[1])).toBe(
      `bad ${sha12(shas[1])} is an ancestor of good ${sha12(shas[5])}: nothing to bisect (are --good and --bad swapped?)`,
    );
    expect(await rangeProblem(repo.dir, side, shas[5])).toBe(
      `good ${sha12(side)} is not an ancestor of bad ${sha12(shas[5])}: to bisect from where their histories part, give their merge base --good ${sha12(shas[2])}`,
    );
    expect(await rangeProblem(repo.dir, shas[3], shas[3])).toBe(
      `good and bad are the same commit ${sha12(shas[3])}: nothing to bisect`,
    );
    const emptyTree = (await runOk('git', ['-C', repo.dir, 'hash-object', '-t', 'tree', '/dev/null'])).stdout.trim();
    const orphan = (
      await runOk('git', ['-C', repo.dir, 'commit-tree', emptyTree, '-m', 'unrelated'], {
        env: {
          GIT_AUTHOR_NAME: 'x',
          GIT_AUTHOR_EMAIL: 'x@example.org',
          GIT_COMMITTER_NAME: 'x',
          GIT_COMMITTER_EMAIL: 'x@example.org',
        },
      })
    ).stdout.trim();
    expect(await rangeProblem(repo.dir, orphan, shas[5])).toBe(
      `good ${sha12(orphan)} and bad ${sha12(shas[5])} share no history: nothing to bisect`,
    );
  });

  it('is refused by bootfarm bisect with one line, and no bisection is started', async () => {
    const file = join(root, 'bootfarm.yaml');
    await writeFile(file, configYaml(repo.url));
    const args = (good: string, bad: string) => [
      'bisect',
      'demo',
      '--good',
      good,
      '--bad',
      bad,
      '--config',
      'x86_64-defconfig',
      '--platform',
      'qemu-x86_64',
      '-c',
      file,
    ];
    expectOneLineError(
      bootfarm(args('side', shas[5])),
      new RegExp(
        `^bootfarm: demo: good ${sha12(side)} is not an ancestor of bad ${sha12(shas[5])}: .*--good ${sha12(shas[2])}$`,
      ),
    );
    expectOneLineError(
      bootfarm(args(shas[5], shas[1])),
      new RegExp(`^bootfarm: demo: bad ${sha12(shas[1])} is an ancestor of good ${sha12(shas[5])}`),
    );
    const { client, close } = await temporalClient();
    try {
      for (const bad of [shas[5], shas[1]]) {
        const id = workflowIds.bisect('demo', bad, 'x86_64-defconfig', 'qemu-x86_64');
        await expect(client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      }
    } finally {
      await close();
    }
  });
});
