import type { GitActivities as GitActivitiesContract } from '../../domain/activityContracts';
import type { RevisionInfo } from '../../domain/types';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { cancellationSignal, keepHeartbeating } from '../../plumbing/git/heartbeat';
import {
  assertBranch,
  assertRef,
  assertTree,
  assertUrl,
  commitInfo,
  ensureMirror,
  fetchFailure,
  git,
  resolveCommit,
} from '../../plumbing/git/mirror';

export interface GitDeps {
  /** where the bare mirrors live, one `<tree>.git` per tree */
  mirrorDir: string;
}

export interface ResolveRevisionInput {
  tree: string;
  branch: string;
  url: string;
  /** a sha, branch or tag; default: the head of `branch` */
  ref?: string;
}

const LS_REMOTE_TIMEOUT_MS = 120_000;

/** Git metadata activities (task queue `bootfarm`): branch heads and revision details. */
export function createGitActivities({ mirrorDir }: GitDeps) {
  const activities = {
    /** The sha at the head of `branch` on the remote, or null when the branch does not exist. */
    async lsRemote(url: string, branch: string): Promise<string | null> {
      assertUrl(url);
      const ref = `refs/heads/${assertBranch(branch)}`;
      let out: string;
      try {
        out = await git(['ls-remote', url, ref], { timeoutMs: LS_REMOTE_TIMEOUT_MS, signal: cancellationSignal() });
      } catch (e) {
        throw fetchFailure(`branch ${branch}`, url, e);
      }
      for (const line of out.split('\n')) {
        const [sha, name] = line.split('\t');
        if (name === ref) return sha;
      }
      return null;
    },

    /** Fetch the tree's mirror and describe `ref` (default: the branch head). */
    async resolveRevision(input: ResolveRevisionInput): Promise<RevisionInfo> {
      const { tree, branch, url } = input;
      assertTree(tree);
      assertBranch(branch);
      assertUrl(url);
      if (input.ref !== undefined) assertRef(input.ref);
      const heartbeat = keepHeartbeating(() => ({ step: `fetch ${tree}` }));
      try {
        const mirror = await ensureMirror(mirrorDir, tree, url, { signal: cancellationSignal() });
        const sha = await resolveCommit(mirror, input.ref ?? `refs/heads/${branch}`);
        if (!sha)
          throw nonRetryable(
            ErrorType.unknownRevision,
            input.ref
              ? `tree ${tree}: no commit, branch or tag named ${input.ref} in ${url}`
              : `tree ${tree}: branch ${branch} does not exist in ${url}`,
          );
        const info = await commitInfo(mirror, sha);
        return { tree, branch, url, ...info };
      } finally {
        heartbeat.stop();
      }
    },

    /** Clone or fetch the tree's mirror; returns its path on this host. */
    async ensureMirror(tree: string, url: string): Promise<string> {
      return ensureMirror(mirrorDir, tree, url, { signal: cancellationSignal() });
    },
  };
  return activities satisfies GitActivitiesContract;
}

export type GitActivities = ReturnType<typeof createGitActivities>;
