/**
 * A revision recorded through the pipeline's own recording activities
 * (activities/pipeline/records.ts), with the log keys the builders and labs store.
 */
import type { Sql } from 'postgres';
import { createResultActivities } from '../../activities/pipeline/records';
import { bootLogKey } from '../../activities/labs/adapter';
import { workflowIds } from '../../domain/ids';
import type { BuildConfig } from '../../domain/config';
import type { Status } from '../../domain/status';
import type { BuildStatus } from '../../domain/types';

export interface RecordedBuild {
  config: string;
  arch: string;
  status: BuildStatus;
  warnings?: number;
  errors?: number;
  errorLines?: string[];
  boots?: { platform: string; lab: string; status: Status; run?: number; message?: string }[];
}

export interface RecordedRevision {
  tree: string;
  branch: string;
  sha: string;
  describe: string;
  subject?: string;
  builds: RecordedBuild[];
}

function buildConfig(b: RecordedBuild): BuildConfig {
  return {
    name: b.config,
    arch: b.arch,
    defconfig: b.config.replace(/^[^-]+-/, ''),
    fragments: [],
    toolchain: 'gcc-12',
  };
}

export async function recordRevision(sql: Sql, rev: RecordedRevision): Promise<void> {
  const records = createResultActivities({ sql });
  const workflowId = workflowIds.revision(rev.tree, rev.branch, rev.sha);
  await records.recordRevisionStart({
    tree: rev.tree,
    branch: rev.branch,
    url: `https://git.kernel.org/pub/scm/linux/kernel/git/${rev.tree}/linux-${rev.tree}.git`,
    sha: rev.sha,
    describe: rev.describe,
    subject: rev.subject ?? `Add linux-${rev.tree} specific files for ${rev.describe}`,
    author: 'Stephen Rothwell',
    authorEmail: 'sfr@canb.auug.org.au',
    committedAt: '2026-11-27T06:00:00Z',
    workflowId,
  });
  for (const b of rev.builds) await recordBuild(sql, rev, b);
}

export async function recordBuild(sql: Sql, rev: { tree: string; sha: string }, b: RecordedBuild): Promise<number> {
  const records = createResultActivities({ sql });
  const workflowId = workflowIds.buildBoot(rev.tree, rev.sha, b.config);
  const buildId = await records.recordBuild({
    tree: rev.tree,
    sha: rev.sha,
    config: buildConfig(b),
    workflowId,
    result: {
      status: b.status,
      warnings: b.warnings ?? 0,
      errors: b.errors ?? 0,
      durationMs: 60_000,
      artifacts: { log: { key: `builds/${rev.tree}/${rev.sha.slice(0, 12)}/${b.config}/build.log`, size: 1000 } },
      errorLines: b.errorLines ?? [],
    },
  });
  for (const boot of b.boots ?? []) await recordBoot(sql, rev, buildId, b, boot);
  return buildId;
}

export async function recordBoot(
  sql: Sql,
  rev: { tree: string; sha: string },
  buildId: number,
  b: Pick<RecordedBuild, 'config' | 'arch'>,
  boot: NonNullable<RecordedBuild['boots']>[number],
): Promise<void> {
  const records = createResultActivities({ sql });
  const workflowId = workflowIds.buildBoot(rev.tree, rev.sha, b.config);
  const run = boot.run ?? 0;
  const bootKey = `${workflowId}:${boot.platform}:${boot.lab}${run ? `:${run}` : ''}`;
  await records.recordBoot({
    buildId,
    tree: rev.tree,
    sha: rev.sha,
    config: b.config,
    arch: b.arch,
    run,
    workflowId,
    fromLab: boot.status !== 'offline',
    result: {
      status: boot.status,
      platform: boot.platform,
      lab: boot.lab,
      durationMs: 5_000,
      message:
        boot.message ??
        (boot.status === 'fail'
          ? 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)'
          : ''),
      ...(boot.status === 'offline' ? {} : { log: { key: bootLogKey(bootKey), size: 4096 } }),
    },
  });
}
