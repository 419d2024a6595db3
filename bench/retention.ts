/**
 * bench/retention: a year of results through the retention sweep, and what
 * the artifact store holds over it.
 *
 *   npx tsx bench/retention.ts [--days 365] [--revisions-per-day 8] [--sample-every 14]
 *     [--buildArtifacts DAYS] [--buildLogs DAYS] [--consoleLogs DAYS] [--outbox DAYS] [--labJobs DAYS]
 *
 * Starts its own PostgreSQL in a temporary directory and uses a directory
 * store. The demo's shape (one tree, branch master, 4 build configs, each
 * booted on 2 platforms), small files (bench/support/history.ts: 4 KiB per
 * build, 1 KiB per console log), one mail per revision, two api-lab jobs per
 * revision. Every 20 days a regression names two commits of one config, every
 * 60 days a bisection builds a commit of its own. Each simulated day records
 * that day's revisions, then sweeps with the default policy (domain/retention.ts,
 * ages overridden by the flags) measured from the end of that day, as the
 * daily Schedule would.
 *
 * Prints the store's size every `--sample-every` days beside the cap the
 * policy implies at that date (each kind's daily bytes times its age, or
 * the days so far when fewer, plus what the newest revisions, regressions
 * and bisections keep), the sweep's time per day, and a dry run over the
 * whole year's database at the end. Exits 1 if a sample is over its cap.
 */
import { readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createExpiry } from '../activities/retention/expiry';
import { retentionSchema, STORE_KINDS, type StoreKind } from '../domain/retention';
import { DirStore } from '../plumbing/store/dirStore';
import { benchDatabase } from './support/database';
import {
  fakeSha,
  recordBuilds,
  recordLabJob,
  recordMail,
  recordRevision,
  SMALL_FILES,
  type History,
} from './support/history';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const DAYS = arg('days', 365);
const PER_DAY = arg('revisions-per-day', 8);
const SAMPLE_EVERY = arg('sample-every', 14);

const DAY = 86_400_000;
const TREE = 'demo';
const CONFIGS = ['x86_64-defconfig', 'x86_64-debug', 'i386-tinyconfig', 'arm-multi_v7_defconfig'];
const PLATFORMS = ['qemu-a', 'qemu-b'];
const LAB = 'qemu';
const BUILD_OBJECT_BYTES = SMALL_FILES.kernel + SMALL_FILES.systemMap + SMALL_FILES.config;
const BUILD_BYTES = BUILD_OBJECT_BYTES + SMALL_FILES.buildLog + PLATFORMS.length * SMALL_FILES.console;

/** Bytes and files under a directory (the store's disk use as `du` would add file sizes). */
function diskUse(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += statSync(join(e.parentPath, e.name)).size;
    files++;
  }
  return { bytes, files };
}

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const policy = retentionSchema.parse(
    Object.fromEntries(STORE_KINDS.filter((k) => process.argv.includes(`--${k}`)).map((k) => [k, `${arg(k, 0)}d`])),
  );
  const ageDays = Object.fromEntries(STORE_KINDS.map((k) => [k, (policy[k] ?? Infinity) / DAY])) as Record<
    StoreKind,
    number
  >;
  const { dir, sql, stop } = await benchDatabase('retention');
  const storeDir = join(dir, 'artifacts');
  const h: History = { sql, store: new DirStore(storeDir), outboxDir: join(dir, 'outbox') };
  const expiry = createExpiry(h);
  const start = Date.now() - DAYS * DAY;
  const shas: string[] = [];
  const pinnedBuilds = new Set<string>();
  const sweepMs: number[] = [];
  let over = 0;
  let mails = 0;

  console.log(
    `bench/retention: ${DAYS} days x ${PER_DAY} revisions x ${CONFIGS.length} configs x ${PLATFORMS.length} boots, ` +
      `${BUILD_BYTES} B per build with its boots; policy ${STORE_KINDS.map((k) => `${k} ${ageDays[k]}d`).join(', ')}, ` +
      `keepRevisions ${policy.keepRevisions}; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`,
  );
  console.log('day  store MiB  files   cap MiB  sweep ms (mean of the period)');
  try {
    for (let day = 0; day < DAYS; day++) {
      const dayStart = start + day * DAY;
      for (let n = 0; n < PER_DAY; n++) {
        const sha = fakeSha(TREE, day, n);
        const at = new Date(dayStart + ((n + 0.5) * DAY) / PER_DAY - DAY / 2 / PER_DAY);
        shas.push(sha);
        await recordRevision(h, {
          tree: TREE,
          branch: 'master',
          sha,
          at,
          configs: CONFIGS,
          platforms: PLATFORMS,
          lab: LAB,
        });
        await recordMail(h, TREE, at, ++mails);
        await recordLabJob(h, 'api', at, new Date(at.getTime() + 600_000), 'done');
        await recordLabJob(h, 'api', at, null, 'pending');
      }
      if (day % 20 === 19) {
        // a regression between two of the last 40 revisions, on one config and platform
        const i = shas.length - 2 - ((day * 7) % Math.min(40, shas.length - 2));
        const config = CONFIGS[Math.floor(day / 20) % CONFIGS.length];
        await sql`insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at)
          values (${TREE}, 'master', 'boot', ${config}, ${PLATFORMS[0]}, 'new', ${shas[i]}, ${shas[i + 1]}, ${new Date(dayStart)})`;
        pinnedBuilds.add(`${shas[i]}:${config}`).add(`${shas[i + 1]}:${config}`);
      }
      if (day % 60 === 59) {
        const bisection = `bisect:${TREE}:${day}`;
        const own = fakeSha('bisect', day);
        await sql`insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status, created_at)
          values (${bisection}, ${TREE}, 'master', ${shas[shas.length - 9]}, ${shas[shas.length - 1]}, ${CONFIGS[0]},
            ${PLATFORMS[0]}, ${LAB}, 'not-found', ${new Date(dayStart)})`;
        await recordBuilds(h, [
          {
            tree: TREE,
            sha: own,
            config: CONFIGS[0],
            at: new Date(dayStart),
            platforms: [PLATFORMS[0]],
            lab: LAB,
            bisection,
          },
        ]);
        for (const sha of [shas[shas.length - 9], shas[shas.length - 1], own]) pinnedBuilds.add(`${sha}:${CONFIGS[0]}`);
      }

      // The daily sweep, as the Schedule runs it at the end of the day.
      const now = dayStart + DAY;
      const t0 = performance.now();
      for (const kind of STORE_KINDS) {
        if (!Number.isFinite(ageDays[kind])) continue;
        let after;
        do {
          const r = await expiry.sweep({
            kind,
            cutoff: new Date(now - ageDays[kind] * DAY).toISOString(),
            keepRevisions: policy.keepRevisions,
            dryRun: false,
            batch: policy.batch,
            after,
            maxBatches: 20,
          });
          after = r.next;
        } while (after);
      }
      sweepMs.push(performance.now() - t0);

      if ((day + 1) % SAMPLE_EVERY === 0 || day === DAYS - 1) {
        const days = day + 1;
        const perDay = (bytes: number, kind: StoreKind) =>
          PER_DAY * CONFIGS.length * bytes * Math.min(days, ageDays[kind]);
        // whole builds of the newest revisions and of what regressions and bisections name stay whatever their age
        const kept = (policy.keepRevisions * CONFIGS.length + pinnedBuilds.size) * BUILD_BYTES;
        const cap =
          perDay(BUILD_OBJECT_BYTES, 'buildArtifacts') +
          perDay(SMALL_FILES.buildLog, 'buildLogs') +
          perDay(PLATFORMS.length * SMALL_FILES.console, 'consoleLogs') +
          kept;
        const use = diskUse(storeDir);
        const period = sweepMs.slice(-SAMPLE_EVERY);
        if (use.bytes > cap) over++;
        console.log(
          `${String(days).padStart(3)}  ${mib(use.bytes).padStart(9)}  ${String(use.files).padStart(6)}  ${mib(cap).padStart(8)}  ` +
            `${(period.reduce((a, b) => a + b, 0) / period.length).toFixed(0)}${use.bytes > cap ? '  OVER THE CAP' : ''}`,
        );
      }
    }

    const [counts] = await sql<{ builds: number; boots: number; jobs: number; expired: number }[]>`
      select (select count(*) from builds)::int as builds, (select count(*) from boots)::int as boots,
        (select count(*) from lab_jobs)::int as jobs,
        (select count(*) from builds where artifacts_expired_at is not null)::int as expired`;
    // A dry run over a year's database with nothing marked: every row past its age is a candidate again.
    await sql`update builds set artifacts_expired_at = null, log_expired_at = null`;
    await sql`update boots set log_expired_at = null`;
    const t0 = performance.now();
    let rows = 0;
    for (const kind of ['buildArtifacts', 'buildLogs', 'consoleLogs'] as const) {
      let after;
      do {
        const r = await expiry.sweep({
          kind,
          cutoff: new Date(start + DAYS * DAY - ageDays[kind] * DAY).toISOString(),
          keepRevisions: policy.keepRevisions,
          dryRun: true,
          batch: policy.batch,
          after,
          maxBatches: 20,
        });
        rows += r.rows;
        after = r.next;
      } while (after);
    }
    const dryMs = performance.now() - t0;
    const sorted = [...sweepMs].sort((a, b) => a - b);
    console.log(
      `${counts.builds} builds, ${counts.boots} boots recorded (${counts.expired} builds' artifacts expired, ${counts.jobs} lab jobs left); ` +
        `daily sweep median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms; ` +
        `dry run over the year's rows: ${rows} rows in ${(dryMs / 1000).toFixed(1)} s; samples over the cap: ${over}`,
    );
  } finally {
    await stop();
  }
  if (over) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
