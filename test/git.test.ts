import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGitActivities } from '../activities/pipeline/git';
import { ensureMirror, git, mirrorPath } from '../plumbing/git/mirror';
import { ErrorType, isNonRetryable } from '../domain/errors';
import { commitChange, createBranch, FIXTURE_BASE_TAG, linearHistory, type FixtureRepo } from '../fixtures/generator';
import type { RevisionInfo } from '../domain/types';
import { testDir } from './harness/services';

/** The failure a call rejects with, for assertions on its type and flags. */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApplicationFailure))
    throw new Error(
      `expected an ApplicationFailure, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
    );
  return e;
}

describe('git activities against real repositories', () => {
  let dir: string;
  let repo: FixtureRepo;
  let shas: string[];
  let mirrorDir: string;
  let activities: ReturnType<typeof createGitActivities>;

  beforeAll(async () => {
    dir = mkdtempSync(join(testDir(), 'git-'));
    ({ repo, shas } = await linearHistory(join(dir, 'upstream'), 3));
    mirrorDir = join(dir, 'mirrors');
    activities = createGitActivities({ mirrorDir });
  });

  describe('lsRemote', () => {
    it('reads the head sha of a branch', async () => {
      expect(await activities.lsRemote(repo.url, 'master')).toBe(shas[3]);
    });

    it('answers null for a branch that does not exist', async () => {
      expect(await activities.lsRemote(repo.url, 'no-such-branch')).toBeNull();
    });

    it('does not confuse a branch with one whose name ends the same', async () => {
      await createBranch(repo, 'topic/master', shas[1]);
      expect(await activities.lsRemote(repo.url, 'master')).toBe(shas[3]);
      expect(await activities.lsRemote(repo.url, 'topic/master')).toBe(shas[1]);
    });

    it('fails a URL that is not a repository with a non-retryable error naming the URL', async () => {
      const f = await failureOf(activities.lsRemote(join(dir, 'nowhere.git'), 'master'));
      expect(f.type).toBe(ErrorType.repositoryUnavailable);
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toContain(join(dir, 'nowhere.git'));
    });

    it.each(['-upload-pack=touch /tmp/x', 'ext::sh -c touch% /tmp/pwned', 'relative/path', 'a b'])(
      'refuses the URL %j before running git',
      async (url) => {
        const f = await failureOf(activities.lsRemote(url, 'master'));
        expect(f.type).toBe(ErrorType.invalidInput);
        expect(f.nonRetryable).toBe(true);
      },
    );

    it.each(['-h', 'a..b', 'x;reboot', '$(id)', ''])('refuses the branch %j', async (branch) => {
      expect((await failureOf(activities.lsRemote(repo.url, branch))).type).toBe(ErrorType.invalidInput);
    });
  });

  describe('resolveRevision', () => {
    it('clones a bare mirror on first use and describes the branch head', async () => {
      const rev = await activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url });
      expect(rev).toEqual({
        tree: 'demo',
        branch: 'master',
        url: repo.url,
        sha: shas[3],
        describe: `${FIXTURE_BASE_TAG}-3-g${shas[3].slice(0, 7)}`,
        subject: 'fixture: change 3',
        author: 'Fixture Developer',
        authorEmail: 'developer@fixture.example.org',
        committedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
      });
      const mirror = mirrorPath(mirrorDir, 'demo');
      expect(mirror).toBe(join(mirrorDir, 'demo.git'));
      expect((await git(['-C', mirror, 'rev-parse', '--is-bare-repository'])).trim()).toBe('true');
    });

    it('resolves a tag, a short sha and a branch given as ref', async () => {
      const byTag = await activities.resolveRevision({
        tree: 'demo',
        branch: 'master',
        url: repo.url,
        ref: FIXTURE_BASE_TAG,
      });
      expect(byTag.sha).toBe(shas[0]);
      expect(byTag.describe).toBe(FIXTURE_BASE_TAG);
      const bySha = await activities.resolveRevision({
        tree: 'demo',
        branch: 'master',
        url: repo.url,
        ref: shas[2].slice(0, 10),
      });
      expect(bySha.sha).toBe(shas[2]);
      expect(bySha.subject).toBe('fixture: change 2');
    });

    it('fetches new commits and prunes deleted branches on the next call', async () => {
      const next = await commitChange(repo, { subject: 'net: a later change' });
      const rev = await activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url });
      expect(rev.sha).toBe(next);
      expect(rev.subject).toBe('net: a later change');

      await git(['-C', repo.dir, 'branch', '-D', 'topic/master']);
      await activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url });
      const refs = await git([
        '-C',
        mirrorPath(mirrorDir, 'demo'),
        'for-each-ref',
        '--format=%(refname)',
        'refs/heads',
      ]);
      expect(refs.trim().split('\n')).toEqual(['refs/heads/master']);
    });

    it('gives a recorded, non-retryable error for a ref that does not exist, naming tree and ref', async () => {
      const f = await failureOf(
        activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url, ref: 'v9.9' }),
      );
      expect(f.type).toBe(ErrorType.unknownRevision);
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toMatch(/tree demo.*v9\.9/);
      const missingSha = await failureOf(
        activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url, ref: 'deadbeef'.repeat(5) }),
      );
      expect(missingSha.type).toBe(ErrorType.unknownRevision);
    });

    it('gives a non-retryable error for a branch that does not exist', async () => {
      const f = await failureOf(activities.resolveRevision({ tree: 'demo', branch: 'gone', url: repo.url }));
      expect(f.type).toBe(ErrorType.unknownRevision);
      expect(f.message).toMatch(/branch gone/);
    });

    it('gives a non-retryable error for a tree URL that cannot be fetched, and leaves no half mirror', async () => {
      const f = await failureOf(
        activities.resolveRevision({ tree: 'broken', branch: 'master', url: join(dir, 'missing.git') }),
      );
      expect(f.type).toBe(ErrorType.repositoryUnavailable);
      expect(f.nonRetryable).toBe(true);
      expect(isNonRetryable(f)).toBe(true);
      expect(f.message).toMatch(/tree broken/);
      expect(existsSync(mirrorPath(mirrorDir, 'broken'))).toBe(false);
    });

    it.each([
      { tree: 'a;b', branch: 'master' },
      { tree: '-x', branch: 'master' },
      { tree: 'demo', branch: '--all' },
      { tree: 'demo', branch: 'master', ref: '--output=/tmp/x' },
      { tree: 'demo', branch: 'master', ref: 'HEAD@{1}' },
      { tree: '../escape', branch: 'master' },
    ])('refuses bad names before running git: %j', async (input) => {
      const f = await failureOf(activities.resolveRevision({ url: repo.url, ...input }));
      expect(f.type).toBe(ErrorType.invalidInput);
      expect(f.nonRetryable).toBe(true);
    });

    it('serialises concurrent first fetches of one tree (one mirror, every caller answered)', async () => {
      const fresh = join(dir, 'mirrors-concurrent');
      const acts = createGitActivities({ mirrorDir: fresh });
      const revs = await Promise.all(
        Array.from({ length: 4 }, () => acts.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url })),
      );
      expect(new Set(revs.map((r) => r.sha)).size).toBe(1);
      expect((await git(['-C', mirrorPath(fresh, 'demo'), 'rev-parse', 'refs/heads/master'])).trim()).toBe(revs[0].sha);
    });

    it('heartbeats while it fetches, when run as an activity', async () => {
      const env = new MockActivityEnvironment();
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => beats.push(d));
      const rev = (await env.run(() =>
        activities.resolveRevision({ tree: 'demo', branch: 'master', url: repo.url }),
      )) as RevisionInfo;
      expect(rev.tree).toBe('demo');
      expect(beats).toContainEqual({ step: 'fetch demo' });
    });
  });

  describe('ensureMirror', () => {
    it('does not fetch when the wanted commit is already there', async () => {
      const mirror = await ensureMirror(mirrorDir, 'demo', repo.url);
      const newer = await commitChange(repo, { subject: 'not fetched yet' });
      await ensureMirror(mirrorDir, 'demo', repo.url, { want: shas[1] });
      await expect(git(['-C', mirror, 'cat-file', '-e', `${newer}^{commit}`])).rejects.toThrow();
      await ensureMirror(mirrorDir, 'demo', repo.url, { want: newer });
      await expect(git(['-C', mirror, 'cat-file', '-e', `${newer}^{commit}`])).resolves.toBe('');
    });

    it('follows a changed URL of the tree', async () => {
      const { repo: moved, shas: movedShas } = await linearHistory(join(dir, 'moved'), 1);
      const mirror = await ensureMirror(mirrorDir, 'demo', moved.url);
      expect((await git(['-C', mirror, 'config', '--get', 'remote.origin.url'])).trim()).toBe(moved.url);
      expect((await git(['-C', mirror, 'rev-parse', 'refs/heads/master'])).trim()).toBe(movedShas[1]);
    });
  });
});
