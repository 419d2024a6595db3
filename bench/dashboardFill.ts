/**
 * The data set of bench/dashboard: 160 revisions of three trees over 30
 * days, 125 build configs each (20,000 builds), 5 boots per passing build
 * topped up with confirmation re-runs to exactly 100,000 boots, 2,000
 * regressions (half active) and 200 bisections. All generate_series, so it
 * loads in seconds.
 */
import type postgres from 'postgres';

export const REVISIONS = 160;
export const CONFIGS = 125;
export const BOOTS_PER_BUILD = 5;

export async function fill(sql: postgres.Sql): Promise<void> {
  await sql`insert into trees (name, url) values
    ('mainline', 'https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git'),
    ('next', 'https://git.kernel.org/pub/scm/linux/kernel/git/next/linux-next.git'),
    ('stable', 'https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git')`;
  await sql`insert into platforms (name, arch, soc)
    select a || '-board-' || k, a, 'soc-' || a || '-' || (k % 2) from unnest(array['x86_64','arm64','i386']) a, generate_series(1, ${BOOTS_PER_BUILD}) k`;
  await sql`insert into labs (name, adapter, platforms, health)
    select 'lab-' || l, case when l = 3 then 'api' else 'qemu' end,
      (select jsonb_agg(jsonb_build_object('name', name, 'capacity', 2)) from platforms), 'online'
    from generate_series(0, 3) l`;
  // Revisions over the last 30 days, three trees, newest last.
  await sql`insert into revisions (tree, branch, sha, describe, subject, author, author_email, committed_at, status, result, workflow_id, started_at, finished_at)
    select (array['mainline','next','stable'])[g % 3 + 1], (array['master','master','linux-6.1.y'])[g % 3 + 1],
      md5('rev' || g) || substr(md5('x' || g), 1, 8), 'v6.1-rc' || (g / 20) || '-' || g || '-g' || substr(md5('rev' || g), 1, 12),
      'subsystem: change number ' || g, 'Dev Eloper', 'dev@example.org',
      now() - (${REVISIONS} - g) * interval '4.5 hours' - interval '1 hour', 'done', case when g % 7 = 0 then 'fail' else 'pass' end,
      'rev:x:' || g, now() - (${REVISIONS} - g) * interval '4.5 hours', now() - (${REVISIONS} - g) * interval '4.5 hours' + interval '20 minutes'
    from generate_series(1, ${REVISIONS}) g`;
  await sql`insert into builds (tree, sha, config, arch, defconfig, toolchain, status, warnings, errors, duration_ms, log_key, artifacts, workflow_id, created_at, finished_at)
    select r.tree, r.sha, a || '-cfg' || (c / 3), a, 'cfg' || (c / 3), 'gcc-12',
      case when (r.id * 131 + c) % 40 = 0 then 'fail' when (r.id * 7 + c) % 97 = 0 then 'infra-error' else 'pass' end,
      (r.id + c) % 5, case when (r.id * 131 + c) % 40 = 0 then 1 else 0 end, 60000 + c * 100,
      'builds/' || r.tree || '/' || left(r.sha, 12) || '/' || a || '-cfg' || (c / 3) || '/build.log', '{}'::jsonb,
      'build:' || r.tree || ':' || left(r.sha, 12) || ':' || a || '-cfg' || (c / 3),
      r.started_at + c * interval '2 seconds', r.started_at + c * interval '2 seconds' + interval '1 minute'
    from revisions r, generate_series(0, ${CONFIGS - 1}) c, lateral (select (array['x86_64','arm64','i386'])[c % 3 + 1] as a) arch`;
  await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, duration_ms, log_key, message, workflow_id, created_at, finished_at)
    select b.id, b.tree, b.sha, b.config, b.arch, b.arch || '-board-' || k, 'lab-' || (k % 4), 0,
      case when (b.id * 13 + k) % 20 = 0 then 'fail' when (b.id + k) % 33 = 0 then 'infra-error' when (b.id + k) % 50 = 0 then 'offline' else 'pass' end,
      3000 + k * 10, 'boots/' || b.id || '-' || k || '.log', 'BOOTFARM: boot ok', b.workflow_id,
      b.created_at + interval '90 seconds' + k * interval '1 second', b.created_at + interval '2 minutes'
    from builds b, generate_series(1, ${BOOTS_PER_BUILD}) k
    where b.status = 'pass'`;
  // Top up to exactly 100,000 boots with repeated runs (confirmations), as the pipeline records them.
  await sql`insert into boots (build_id, tree, sha, config, arch, platform, lab, run, status, duration_ms, workflow_id, created_at)
    select b.build_id, b.tree, b.sha, b.config, b.arch, b.platform, b.lab, 1, 'fail', 3000, b.workflow_id, b.created_at + interval '10 minutes'
    from boots b order by b.id limit greatest(0, 100000 - (select count(*) from boots))`;
  await sql`insert into regressions (tree, branch, kind, config, platform, state, last_good_sha, first_bad_sha, first_bad_at, last_bad_sha, fixed_sha, created_at, updated_at)
    select r.tree, r.branch, case when g % 4 = 0 then 'build' else 'boot' end, (array['x86_64','arm64','i386'])[g % 3 + 1] || '-cfg' || (g % 41),
      case when g % 4 = 0 then '' else (array['x86_64','arm64','i386'])[g % 3 + 1] || '-board-' || (g % ${BOOTS_PER_BUILD} + 1) end,
      (array['new','still-failing','fixed','fixed'])[g % 4 + 1], p.sha, r.sha, r.started_at, r.sha,
      case when g % 4 >= 2 then r.sha end, r.started_at + g * interval '1 millisecond', r.started_at + interval '1 hour'
    from generate_series(1, 2000) g
    join revisions r on r.id = g % ${REVISIONS - 1} + 2
    join revisions p on p.id = g % ${REVISIONS - 1} + 1`;
  await sql`insert into bisections (workflow_id, tree, branch, good_sha, bad_sha, config, platform, lab, status, culprit_sha, steps, verdict, bisect_log, created_at, finished_at)
    select 'bisect:' || g, g2.tree, g2.branch, g2.last_good_sha, g2.first_bad_sha, g2.config, g2.platform, 'lab-1',
      case when g % 5 = 0 then 'running' else 'found' end, g2.first_bad_sha,
      jsonb_build_array(jsonb_build_object('sha', g2.first_bad_sha, 'verdict', 'bad', 'round', 1)), jsonb_build_object('status', 'found', 'summary', 'culprit'),
      'git bisect start', g2.created_at, g2.created_at + interval '1 hour'
    from generate_series(1, 200) g join regressions g2 on g2.id = g * 10 - 9`;
  await sql`update regressions set bisection_id = b.id from bisections b where b.workflow_id = 'bisect:' || ((regressions.id + 9) / 10) and regressions.id % 10 = 1`;
  await sql`analyze`;
}
