/**
 * A revision's results as KCIDB I/O data, schema v4.3: one checkout, its
 * builds, one test per boot (path "boot") and one per result of the boots'
 * test plans (its dotted path, e.g. kselftest.timers.posix_timers). Optional
 * fields are left out rather than null (KCIDB allows no nulls), and URLs are
 * absolute.
 */
import { z } from 'zod';
import type { Revision } from './data/rows';
import type { Boot, Build } from '../plumbing/db/rows';
import type { TestRow } from './data/testResults';

export const KCIDB_ORIGIN = 'bootfarm';
export const KCIDB_VERSION = { major: 4, minor: 3 } as const;

export type KcidbTestStatus = 'FAIL' | 'ERROR' | 'MISS' | 'PASS' | 'DONE' | 'SKIP';

/** Bootfarm's words to KCIDB's: the lab's fault is ERROR, a boot nobody picked up is MISS. */
const TEST_STATUS: Record<string, KcidbTestStatus> = {
  pass: 'PASS',
  fail: 'FAIL',
  'infra-error': 'ERROR',
  offline: 'MISS',
  skip: 'SKIP',
};

export interface KcidbResource {
  name: string;
  url: string;
}

export interface KcidbCheckout {
  id: string;
  origin: string;
  tree_name?: string;
  git_repository_url?: string;
  git_commit_hash?: string;
  git_commit_name?: string;
  git_repository_branch?: string;
  comment?: string;
  start_time?: string;
  contacts?: string[];
  valid?: boolean;
  misc?: Record<string, unknown>;
}

export interface KcidbBuild {
  id: string;
  origin: string;
  checkout_id: string;
  comment?: string;
  start_time?: string;
  duration?: number;
  architecture?: string;
  compiler?: string;
  config_name?: string;
  config_url?: string;
  log_url?: string;
  log_excerpt?: string;
  output_files?: KcidbResource[];
  valid?: boolean;
  misc?: Record<string, unknown>;
}

export interface KcidbTest {
  id: string;
  origin: string;
  build_id: string;
  path?: string;
  comment?: string;
  environment?: { comment?: string; misc?: Record<string, unknown> };
  log_url?: string;
  log_excerpt?: string;
  status?: KcidbTestStatus;
  start_time?: string;
  duration?: number;
  misc?: Record<string, unknown>;
}

/** The contract of the export: KCIDB's required fields; test/dashboard/kcidbRules.ts checks KCIDB's own rules. */
export const kcidbSchema = z
  .strictObject({
    version: z.strictObject({ major: z.literal(4), minor: z.number().int() }),
    checkouts: z.array(z.object({ id: z.string(), origin: z.string() })),
    builds: z.array(z.object({ id: z.string(), origin: z.string(), checkout_id: z.string() })),
    tests: z.array(z.object({ id: z.string(), origin: z.string(), build_id: z.string() })),
  })
  .meta({ id: 'Kcidb' });

export interface KcidbData {
  version: { major: 4; minor: number };
  checkouts: KcidbCheckout[];
  builds: KcidbBuild[];
  tests: KcidbTest[];
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;

function artifactUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;
}

const checkoutId = (rev: Revision) => `${KCIDB_ORIGIN}:checkout-${rev.id}`;
// Builds and boots are shared by the branches that test the same commit; a
// KCIDB build belongs to one checkout, so ids are qualified by the revision.
const buildId = (rev: Revision, b: Pick<Build, 'id'>) => `${KCIDB_ORIGIN}:build-${rev.id}-${b.id}`;
const testId = (rev: Revision, t: Boot) => `${KCIDB_ORIGIN}:boot-${rev.id}-${t.id}`;
const planTestId = (rev: Revision, t: TestRow) => `${KCIDB_ORIGIN}:test-${rev.id}-${t.id}`;
const LOG_EXCERPT_MAX = 16384;

const finished = new Set(['pass', 'fail']);

export function toKcidb(
  rev: Revision,
  builds: Build[],
  boots: Boot[],
  opts: { baseUrl: string; treeUrl?: string | null; tests?: TestRow[] },
): KcidbData {
  const checkout = defined<KcidbCheckout>({
    id: checkoutId(rev),
    origin: KCIDB_ORIGIN,
    tree_name: rev.tree,
    git_repository_url: opts.treeUrl && /^(https|git):\/\/./.test(opts.treeUrl) ? opts.treeUrl : undefined,
    git_commit_hash: /^[0-9a-f]{40}$/.test(rev.sha) ? rev.sha : undefined,
    git_commit_name: rev.describe || undefined,
    git_repository_branch: rev.branch,
    comment: rev.subject || undefined,
    start_time: rev.startedAt,
    contacts: rev.authorEmail ? [rev.authorEmail] : undefined,
    valid: rev.status === 'error' ? false : true,
    misc: defined({
      dashboard_url: `${opts.baseUrl.replace(/\/+$/, '')}/revisions/${rev.id}`,
      workflow_id: rev.workflowId ?? undefined,
    }),
  });
  const kBuilds = builds.map((b) =>
    defined<KcidbBuild>({
      id: buildId(rev, b),
      origin: KCIDB_ORIGIN,
      checkout_id: checkout.id,
      comment: b.config,
      start_time: b.createdAt,
      duration: b.durationMs !== null ? b.durationMs / 1000 : undefined,
      architecture: /^[a-z0-9_]*$/.test(b.arch) ? b.arch : undefined,
      compiler: b.toolchain,
      config_name: b.defconfig,
      config_url: b.artifacts?.config?.key ? artifactUrl(opts.baseUrl, b.artifacts.config.key) : undefined,
      log_url: b.logKey ? artifactUrl(opts.baseUrl, b.logKey) : undefined,
      log_excerpt: b.errorLines?.length ? b.errorLines.join('\n').slice(0, 16384) : undefined,
      output_files: Object.entries(b.artifacts ?? {})
        .filter(([role, a]) => role !== 'log' && a && typeof a.key === 'string')
        .map(([role, a]) => ({
          name: a.key.slice(a.key.lastIndexOf('/') + 1) || role,
          url: artifactUrl(opts.baseUrl, a.key),
        })),
      // valid is known only for a finished build; an infrastructure error says nothing about the code.
      valid: finished.has(b.status) ? b.status === 'pass' : undefined,
      misc: defined({
        config: b.config,
        status: b.status,
        warnings: b.warnings,
        errors: b.errors,
        workflow_id: b.workflowId ?? undefined,
      }),
    }),
  );
  const byBuild = new Map(builds.map((b) => [b.id, b]));
  const tests = boots
    .filter((t) => byBuild.has(t.buildId))
    .map((t) =>
      defined<KcidbTest>({
        id: testId(rev, t),
        origin: KCIDB_ORIGIN,
        build_id: buildId(rev, { id: t.buildId }),
        path: 'boot',
        comment: `${t.config} on ${t.platform} in ${t.lab}`,
        environment: { comment: `${t.platform} in lab ${t.lab}`, misc: { platform: t.platform, lab: t.lab } },
        log_url: t.logKey ? artifactUrl(opts.baseUrl, t.logKey) : undefined,
        log_excerpt: t.message ? t.message.slice(0, 16384) : undefined,
        status: TEST_STATUS[t.status],
        start_time: t.createdAt,
        duration: t.durationMs !== null ? t.durationMs / 1000 : undefined,
        misc: defined({ status: t.status, run: t.run, attempts: t.attempts, workflow_id: t.workflowId ?? undefined }),
      }),
    );
  const bootsById = new Map(boots.filter((t) => byBuild.has(t.buildId)).map((t) => [t.id, t]));
  const planTests = (opts.tests ?? []).flatMap((r) => {
    const boot = bootsById.get(r.bootId);
    if (!boot) return [];
    return [
      defined<KcidbTest>({
        id: planTestId(rev, r),
        origin: KCIDB_ORIGIN,
        build_id: buildId(rev, { id: boot.buildId }),
        path: r.path,
        comment: `${r.path} (${r.plan}): ${boot.config} on ${boot.platform} in ${boot.lab}`,
        environment: {
          comment: `${boot.platform} in lab ${boot.lab}`,
          misc: { platform: boot.platform, lab: boot.lab },
        },
        // the boot's console holds the test's output
        log_url: boot.logKey ? artifactUrl(opts.baseUrl, boot.logKey) : undefined,
        log_excerpt: (r.logExcerpt ?? r.reason)?.slice(0, LOG_EXCERPT_MAX) || undefined,
        status: r.status,
        start_time: boot.createdAt,
        misc: defined({
          plan: r.plan,
          xfail: r.xfail || undefined,
          reason: r.reason ?? undefined,
          boot_test_id: testId(rev, boot),
        }),
      }),
    ];
  });
  return {
    version: { major: 4, minor: KCIDB_VERSION.minor },
    checkouts: [checkout],
    builds: kBuilds,
    tests: [...tests, ...planTests],
  };
}
