/**
 * The retention policy: what Bootfarm removes, and when (docs/retention.md).
 * Workflow-safe: the schema, the sweep's contract and the pure helpers the
 * retention workflow and the schedule share.
 */
import { z } from 'zod';
import { durationSchema } from './duration';

const DAY = 86_400_000;

/** An age after which a kind is removed, or `never`. At least `min`, so a typo ("30m" for "30d") cannot empty the store. */
function age(min: number, minText: string) {
  return z
    .union([z.literal('never'), durationSchema])
    .transform((v) => (v === 'never' ? null : v))
    .refine((v) => v === null || v >= min, `at least ${minText}, or never`);
}

const SIZE_UNITS: Record<string, number> = {
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** "5G", "500Mi", "2.5Gi" (ccache's units: K M G T decimal, Ki Mi Gi Ti binary) to bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)$/.exec(value.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(value)}: expected e.g. 500M, 5G, 10Gi`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]]);
}

const size = z.string().transform((v, ctx) => {
  try {
    return parseSize(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export const retentionSchema = z.strictObject({
  /** report what each sweep would remove, remove nothing */
  dryRun: z.boolean().default(false),
  /** how often the `retention` Schedule sweeps the store, the database and the outbox */
  every: durationSchema.refine((ms) => ms >= 60_000, 'at least 1m').prefault('1d'),
  /** the newest revisions of every branch whose builds, boots and logs are kept whatever their age */
  keepRevisions: z.number().int().min(1).max(10_000).default(10),
  /** kernels, modules, dtbs, System.map and .config of a build */
  buildArtifacts: age(DAY, '1d').prefault('60d'),
  /** the build log */
  buildLogs: age(DAY, '1d').prefault('180d'),
  /** boot console logs (and what a lab stored beside them) */
  consoleLogs: age(DAY, '1d').prefault('365d'),
  /** the archived copy (.eml) of each mail sent */
  outbox: age(DAY, '1d').prefault('180d'),
  /** finished (done, expired) jobs of api labs, and pending ones nobody answered */
  labJobs: age(DAY, '1d').prefault('30d'),
  /** a builder's worktree and object directory of a (tree, build config) no build used for this long */
  worktrees: age(DAY, '1d').prefault('14d'),
  /** ccache's size on each builder (`ccache -M`) */
  ccacheSize: size.refine((n) => n >= 64 * 1024 * 1024, 'at least 64M').prefault('5G'),
  /** a lab worker's boot scratch directory left by a killed worker, removed after this long */
  labScratch: age(3_600_000, '1h').prefault('1d'),
  /** how often builders and lab workers sweep their own directories */
  localEvery: durationSchema.refine((ms) => ms >= 1000, 'at least 1s').prefault('1h'),
  /** rows handled per database round trip */
  batch: z.number().int().min(1).max(10_000).default(500),
});

export type RetentionPolicy = z.output<typeof retentionSchema>;

/** A lab's scratch directory lives as long as its longest boot: removing it sooner would pull a board's files away. */
export function checkRetentionAgainstLabs(
  policy: RetentionPolicy,
  labs: { name: string; bootTimeout: number; bootMargin?: number }[],
  ctx: z.RefinementCtx,
): void {
  if (policy.labScratch === null) return;
  for (const lab of labs) {
    const longest = lab.bootTimeout + (lab.bootMargin ?? 30_000 + lab.bootTimeout / 4);
    if (policy.labScratch < 2 * longest)
      ctx.addIssue({
        code: 'custom',
        path: ['retention', 'labScratch'],
        message: `at least twice lab ${lab.name}'s longest boot (${Math.ceil((2 * longest) / 60_000)}m): a boot's scratch directory must outlive it`,
      });
  }
}

/** What the store sweep removes, by kind, oldest first. */
export const STORE_KINDS = ['buildArtifacts', 'buildLogs', 'consoleLogs', 'outbox', 'labJobs'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Where a sweep goes on: the age and row id of the last row it looked at. */
export interface SweepCursor {
  /** the row's age timestamp, as PostgreSQL's text (microseconds kept) */
  at: string;
  id: number;
}

export interface SweepRequest {
  kind: StoreKind;
  /** rows finished before this (ISO time) are past their age */
  cutoff: string;
  keepRevisions: number;
  dryRun: boolean;
  batch: number;
  after?: SweepCursor;
  /** batches in this call before it hands back a cursor (bounds one activity's work) */
  maxBatches?: number;
}

export interface SweepResult {
  kind: StoreKind;
  /** rows marked expired (or deleted: lab jobs); in a dry run, rows that would be */
  rows: number;
  /** objects or files removed; in a dry run, that would be */
  objects: number;
  /** bytes removed where the row knew the object's size */
  bytes: number;
  /** the first keys or files removed (or that would be), for the report */
  sample: string[];
  /** set when there is more to sweep after this call */
  next?: SweepCursor;
}

export interface RetentionInput {
  dryRun: boolean;
  keepRevisions: number;
  batch: number;
  /** age in ms per kind; null = kept forever */
  ages: Record<StoreKind, number | null>;
}

export interface RetentionReport {
  dryRun: boolean;
  /** per kind swept; kinds kept forever are absent */
  kinds: (Omit<SweepResult, 'next'> & { cutoff: string; calls: number; more: boolean })[];
  /** temporary files and unfinished uploads of killed writers removed from the store (or that would be) */
  temporaries: number;
}

/** The retention workflow's input from the config (what the Schedule starts it with). */
export function retentionInputFor(policy: RetentionPolicy, opts: { dryRun?: boolean } = {}): RetentionInput {
  return {
    dryRun: opts.dryRun ?? policy.dryRun,
    keepRevisions: policy.keepRevisions,
    batch: policy.batch,
    ages: Object.fromEntries(STORE_KINDS.map((k) => [k, policy[k]])) as Record<StoreKind, number | null>,
  };
}

/** The Schedule's id, and the prefix of the workflow ids it starts. */
export const RETENTION_SCHEDULE_ID = 'retention';
