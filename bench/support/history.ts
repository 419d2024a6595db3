/**
 * Results as the pipeline records them, written straight into the database
 * and the artifact store with chosen times: a revision's builds (kernel,
 * System.map, .config, build log as small files) and boots (console logs),
 * mails in the outbox, api-lab jobs. For the retention tests and bench,
 * which need months of history in seconds. Keys come from the same
 * functions the builders and labs use.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import { buildArtifactPrefix } from '../../activities/build/index';
import { bootLogKey } from '../../activities/labs/adapter';
import { workflowIds } from '../../domain/ids';
import type { ArtifactStore } from '../../plumbing/store/types';

export interface History {
  sql: Sql;
  store: ArtifactStore;
  outboxDir: string;
}

/** Bytes of each small file. */
export interface FileSizes {
  kernel: number;
  systemMap: number;
  config: number;
  buildLog: number;
  console: number;
}

export const SMALL_FILES: FileSizes = { kernel: 2048, systemMap: 512, config: 512, buildLog: 1024, console: 1024 };

export function fakeSha(...parts: (string | number)[]): string {
  return createHash('sha1').update(parts.join(':')).digest('hex');
}

const filler = (bytes: number, seed: string) => Buffer.alloc(bytes, seed);

async function putAll(store: ArtifactStore, objects: [string, Buffer][], parallel = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const [key, body] = objects[next++];
      await store.put(key, body);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, objects.length) }, worker));
}

export interface BuildSpec {
  tree: string;
  sha: string;
  config: string;
  at: Date;
  platforms: string[];
  lab: string;
  /** a bisection's build: its workflow id (scope is the step's id) */
  bisection?: string;
  sizes?: FileSizes;
}

export interface RecordedBuild {
  id: number;
  keys: { artifacts: string[]; log: string };
  boots: { id: number; platform: string; logKey: string }[];
}

/** One build with a boot per platform, each finished ten minutes after `at`. */
export async function recordBuilds(h: History, specs: BuildSpec[]): Promise<RecordedBuild[]> {
  if (!specs.length) return [];
  const objects: [string, Buffer][] = [];
  const rows = specs.map((s) => {
    const sizes = s.sizes ?? SMALL_FILES;
    const workflowId = s.bisection
      ? workflowIds.bisectStep(s.bisection, s.sha)
      : workflowIds.buildBoot(s.tree, s.sha, s.config);
    const prefix = buildArtifactPrefix(s.tree, s.sha, s.config);
    const artifacts = {
      kernel: { key: `${prefix}/bzImage`, size: sizes.kernel },
      systemMap: { key: `${prefix}/System.map`, size: sizes.systemMap },
      config: { key: `${prefix}/kernel.config`, size: sizes.config },
      log: { key: `${prefix}/build.log`, size: sizes.buildLog },
    };
    for (const a of Object.values(artifacts)) objects.push([a.key, filler(a.size, s.sha.slice(0, 1))]);
    return {
      tree: s.tree,
      sha: s.sha,
      config: s.config,
      scope: s.bisection ? workflowId : '',
      bisection: s.bisection ?? null,
      arch: 'x86_64',
      defconfig: 'defconfig',
      status: 'pass',
      log_key: artifacts.log.key,
      artifacts: h.sql.json(artifacts),
      workflow_id: workflowId,
      created_at: s.at,
      finished_at: new Date(s.at.getTime() + 600_000),
    };
  });
  const inserted = await h.sql<{ id: string; artifacts: Record<string, { key: string }>; workflow_id: string }[]>`
    insert into builds ${h.sql(rows)} returning id, artifacts, workflow_id`;
  const bootRows = inserted.flatMap((b, i) =>
    specs[i].platforms.map((platform) => {
      const logKey = bootLogKey(`${b.workflow_id}:${platform}:${specs[i].lab}`);
      objects.push([logKey, filler((specs[i].sizes ?? SMALL_FILES).console, platform.slice(-1))]);
      return {
        build_id: Number(b.id),
        tree: specs[i].tree,
        sha: specs[i].sha,
        config: specs[i].config,
        arch: 'x86_64',
        platform,
        lab: specs[i].lab,
        scope: rows[i].scope,
        bisection: rows[i].bisection,
        status: 'pass',
        log_key: logKey,
        workflow_id: b.workflow_id,
        created_at: new Date(specs[i].at.getTime() + 600_000),
        finished_at: new Date(specs[i].at.getTime() + 900_000),
      };
    }),
  );
  const boots = bootRows.length
    ? await h.sql<{ id: string; build_id: string; platform: string; log_key: string }[]>`
        insert into boots ${h.sql(bootRows)} returning id, build_id, platform, log_key`
    : [];
  await putAll(h.store, objects);
  return inserted.map((b) => ({
    id: Number(b.id),
    keys: {
      artifacts: Object.entries(b.artifacts)
        .filter(([role]) => role !== 'log')
        .map(([, a]) => a.key),
      log: b.artifacts.log.key,
    },
    boots: boots
      .filter((x) => Number(x.build_id) === Number(b.id))
      .map((x) => ({ id: Number(x.id), platform: x.platform, logKey: x.log_key })),
  }));
}

export interface RevisionSpec {
  tree: string;
  branch: string;
  sha: string;
  at: Date;
  configs: string[];
  platforms: string[];
  lab: string;
  sizes?: FileSizes;
}

/** A tested revision: its row, then one build per config with its boots. */
export async function recordRevision(h: History, r: RevisionSpec): Promise<RecordedBuild[]> {
  await h.sql`
    insert into revisions (tree, branch, sha, status, result, workflow_id, started_at, finished_at)
    values (${r.tree}, ${r.branch}, ${r.sha}, 'done', 'pass', ${workflowIds.revision(r.tree, r.branch, r.sha)},
            ${r.at}, ${new Date(r.at.getTime() + 1_800_000)})
    on conflict (tree, branch, sha) do nothing`;
  return recordBuilds(
    h,
    r.configs.map((config) => ({
      tree: r.tree,
      sha: r.sha,
      config,
      at: r.at,
      platforms: r.platforms,
      lab: r.lab,
      sizes: r.sizes,
    })),
  );
}

/** A mail as the mailer archives it: the .eml in the outbox and its reports row; returns the file name. */
export async function recordMail(h: History, tree: string, at: Date, n: number): Promise<string> {
  const messageId = `<report-${tree}-${n}-${at.getTime()}@bootfarm.test>`;
  const name = `report-${tree}-${n}-${at.getTime()}@bootfarm.test.eml`;
  await mkdir(h.outboxDir, { recursive: true });
  await writeFile(join(h.outboxDir, name), `Message-ID: ${messageId}\nSubject: report ${n}\n\nbody\n`);
  await h.sql`
    insert into reports (message_id, kind, tree, subject, status, eml_key, transport, created_at, sent_at)
    values (${messageId}, 'boot', ${tree}, ${`report ${n}`}, 'sent', ${name}, 'outbox', ${at}, ${at})`;
  return name;
}

let labJobs = 0;

/** A job of an api lab; `completed` null leaves it pending. Returns its id. */
export async function recordLabJob(
  h: History,
  lab: string,
  created: Date,
  completed: Date | null,
  status: 'pending' | 'done' | 'expired',
): Promise<number> {
  const [row] = await h.sql<{ id: string }[]>`
    insert into lab_jobs (lab, boot_key, task_token, request, status, created_at, completed_at)
    values (${lab}, ${`job-${lab}-${created.getTime()}-${status}-${++labJobs}`}, ${Buffer.from('token')},
            ${h.sql.json({})}, ${status}, ${created}, ${completed})
    returning id`;
  return Number(row.id);
}
