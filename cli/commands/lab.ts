import type { Command } from 'commander';
import { taskQueues } from '../../domain/ids';
import type { LabWorkerStatus } from '../../domain/labWorker';
import { resolveConfig } from '../context';
import { lazy } from '../lazy';
import { runAction, UserError } from '../fail';

const connections = lazy((): typeof import('../../plumbing/temporal/connections') =>
  require('../../plumbing/temporal/connections'),
);
const admin = lazy((): typeof import('../../plumbing/db/labAdmin') => require('../../plumbing/db/labAdmin'));
const health = lazy((): typeof import('../../activities/labs/health') => require('../../activities/labs/health'));
const dashboard = lazy((): typeof import('../dashboardApi') => require('../dashboardApi'));

const configOption = ['-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)'] as const;

async function withDb<T>(file: string | undefined, fn: (sql: import('postgres').Sql) => Promise<T>): Promise<T> {
  const { config } = resolveConfig(file);
  const sql = await connections().openDb(config);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function parsePlatforms(specs: string[]): { name: string; capacity: number }[] {
  return specs.map((s) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._+-]{0,63})(?::(\d{1,4}))?$/.exec(s);
    if (!m) throw new UserError(`--platform ${JSON.stringify(s)}: expected NAME or NAME:CAPACITY`);
    return { name: m[1], capacity: m[2] ? Number(m[2]) : 1 };
  });
}

function describeWorker(s: LabWorkerStatus): string {
  const platforms = s.platforms ?? [];
  const queues = platforms.filter((p) => p.state === 'running').map((p) => taskQueues.labPlatform(s.lab, p.name));
  const others = platforms.filter((p) => p.state !== 'running').map((p) => `${p.name} ${p.state}`);
  const detail =
    s.state === 'draining'
      ? ` (finishing ${s.boots} boot(s), taking no new ones${queues.length ? `; polling ${queues.join(', ')}` : ''})`
      : s.state === 'running'
        ? ` (polling ${queues.join(', ')}${others.length ? `; ${others.join(', ')}` : ''})`
        : s.error
          ? ` (ended by itself: ${s.error})`
          : '';
  return `lab ${s.lab}: worker ${s.state}${detail}\n`;
}

/** Stop or start a lab worker (or one platform's) of the running embedded stack through its dashboard. */
async function switchLabWorker(
  name: string,
  running: boolean,
  opts: { config?: string; wait?: boolean; platform?: string },
) {
  const { config } = resolveConfig(opts.config);
  const path = `/api/labs/${encodeURIComponent(name)}/worker`;
  const body = { running, ...(opts.platform ? { platform: opts.platform } : {}) };
  let { json: status } = await dashboard().callDashboard<LabWorkerStatus>(config, 'POST', path, body);
  process.stdout.write(describeWorker(status));
  while (opts.wait && status.state === 'draining') {
    await new Promise((r) => setTimeout(r, 1000));
    const boots = status.boots;
    status = (await dashboard().callDashboard<LabWorkerStatus>(config, 'GET', path)).json;
    if (status.state !== 'draining' || status.boots !== boots) process.stdout.write(describeWorker(status));
  }
}

export function registerLabCommands(program: Command) {
  const lab = program
    .command('lab')
    .description("lab identity and health; stopping and starting the embedded stack's lab workers");
  lab
    .command('add')
    .description(
      'register a lab (labs of the config are registered by `bootfarm up`; this is for API labs added later)',
    )
    .argument('<name>')
    .option('--adapter <kind>', 'qemu, lava, shell or api', 'api')
    .option(
      '--platform <name[:capacity]>',
      'a platform it has (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(...configOption)
    .action(
      runAction(async (name: string, opts: { adapter: string; platform: string[]; config?: string }) => {
        if (!['qemu', 'lava', 'shell', 'api'].includes(opts.adapter))
          throw new UserError(`--adapter ${JSON.stringify(opts.adapter)}: expected qemu, lava, shell or api`);
        const platforms = parsePlatforms(opts.platform);
        const added = await withDb(opts.config, (sql) => admin().labAdmin(sql).add(name, opts.adapter, platforms));
        process.stdout.write(added ? `added lab ${name}\n` : `lab ${name} exists already (unchanged)\n`);
      }),
    );
  lab
    .command('token')
    .description(
      'make a new API token for a lab; it is printed once and only its hash is kept (the old token stops working)',
    )
    .argument('<name>')
    .option(...configOption)
    .action(
      runAction(async (name: string, opts: { config?: string }) => {
        const token = await withDb(opts.config, (sql) => admin().labAdmin(sql).newToken(name));
        process.stdout.write(`${token}\n`);
        process.stderr.write(
          `bootfarm: this is the only time the token is shown; the lab sends it as "Authorization: Bearer <token>"\n`,
        );
      }),
    );
  lab
    .command('revoke')
    .description("revoke a lab's API token")
    .argument('<name>')
    .option(...configOption)
    .action(
      runAction(async (name: string, opts: { config?: string }) => {
        await withDb(opts.config, (sql) => admin().labAdmin(sql).revoke(name));
        process.stdout.write(`revoked the token of lab ${name}\n`);
      }),
    );
  lab
    .command('stop')
    .description(
      "stop a lab's worker in the running embedded stack (`bootfarm up`): it finishes its running boots and takes no new ones; " +
        "boots left queued become offline after the lab's scheduleToStartTimeout, new ones at dispatch after its offlineGrace",
    )
    .argument('<name>')
    .option('--platform <name>', "stop only this platform's boards; the lab's other platforms keep taking boots")
    .option('--wait', 'wait until its running boots have finished')
    .option(...configOption)
    .action(
      runAction((name: string, opts: { config?: string; wait?: boolean; platform?: string }) =>
        switchLabWorker(name, false, opts),
      ),
    );
  lab
    .command('start')
    .description("start a stopped lab's worker in the running embedded stack again")
    .argument('<name>')
    .option('--platform <name>', "start only this platform's boards")
    .option(...configOption)
    .action(
      runAction((name: string, opts: { config?: string; platform?: string }) => switchLabWorker(name, true, opts)),
    );
  lab
    .command('list')
    .description(
      'labs and their platforms with their health: a platform is online when a worker serves its queue ' +
        'lab-<lab>-<platform> (polled recently, or busy and reporting itself), else offline (at once when an operator ' +
        'stopped the lab with `bootfarm lab stop`); API labs by their last result',
    )
    .option(...configOption)
    .action(
      runAction(async (opts: { config?: string }) => {
        const { config } = resolveConfig(opts.config);
        const labs = await withDb(opts.config, (sql) => admin().labAdmin(sql).list());
        const { client, close } = await connections().openClient(config);
        try {
          for (const l of labs) process.stdout.write(await describeLab(client, config, l));
        } finally {
          await close();
        }
      }),
    );
}

/** One line for the lab, then one per platform: health, boards (busy/all, when workers report them), queue. */
async function describeLab(
  client: import('@temporalio/client').Client,
  config: import('../../domain/config').BootfarmConfig,
  l: import('../../plumbing/db/labAdmin').LabRow,
): Promise<string> {
  const graceMs = config.labs.find((c) => c.name === l.name)?.offlineGrace ?? 60_000;
  const platforms = await Promise.all(
    l.platforms.map(async (p) => {
      const queue = taskQueues.labPlatform(l.name, p.name);
      // An api lab has no worker of its own: its last result is its sign of life.
      const [seen, workers] =
        l.adapter === 'api'
          ? [l.last_result_at, null]
          : await Promise.all([health().lastSignOfWorker(client, queue), health().queueWorkers(client, queue)]);
      const platformStop = l.platform_stopped[p.name] ? new Date(l.platform_stopped[p.name]) : null;
      const workerStoppedAt = health().laterStop(l.worker_stopped_at, platformStop);
      const { online } = health().labPresence({ lastPoll: seen, workerStoppedAt }, graceMs, Date.now());
      const running = (workers ?? []).filter((w) => w.running);
      const busy = running.length ? `, ${running.reduce((n, w) => n + w.busy, 0)} busy` : '';
      const note = !online && platformStop ? `  worker stopped: ${platformStop.toISOString()}` : '';
      return {
        line: `  ${p.name.padEnd(24)} ${(online ? 'online' : 'offline').padEnd(8)} ${p.capacity} board(s)${busy}  queue ${queue}${note}\n`,
        online,
      };
    }),
  );
  const state = health().labHealthOf(platforms.map((p) => (p.online ? 'online' : 'offline')));
  const stopped = l.worker_stopped_at ? ` worker stopped: ${l.worker_stopped_at.toISOString()}` : '';
  const boards = l.platforms.map((p) => `${p.name}×${p.capacity}`).join(',') || '-';
  return (
    `${l.name.padEnd(16)} ${l.adapter.padEnd(6)} ${state.padEnd(8)} ${boards.padEnd(32)} ` +
    `token:${l.has_token ? 'yes' : 'no '} last result: ${l.last_result_at?.toISOString() ?? 'never'}${stopped}\n` +
    platforms.map((p) => p.line).join('')
  );
}
