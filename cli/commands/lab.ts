import type { Command } from 'commander';
import { resolveConfig } from '../context';
import { lazy } from '../lazy';
import { runAction, UserError } from '../fail';

const connections = lazy((): typeof import('../connections') => require('../connections'));
const admin = lazy((): typeof import('../../activities/db/labAdmin') => require('../../activities/db/labAdmin'));
const health = lazy((): typeof import('../../activities/labHealth') => require('../../activities/labHealth'));

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

export function registerLabCommands(program: Command) {
  const lab = program.command('lab').description('lab identity and health');
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
    .command('list')
    .description(
      'labs with their health: online when a worker polled lab-<name> recently, else offline; API labs by their last result',
    )
    .option(...configOption)
    .action(
      runAction(async (opts: { config?: string }) => {
        const { config } = resolveConfig(opts.config);
        const labs = await withDb(opts.config, (sql) => admin().labAdmin(sql).list());
        const { client, close } = await connections().openClient(config);
        try {
          for (const l of labs) {
            const graceMs = config.labs.find((c) => c.name === l.name)?.offlineGrace ?? 60_000;
            const polled = l.adapter === 'api' ? null : await health().lastActivityPoll(client, `lab-${l.name}`);
            const recent = (t: Date | null) =>
              t !== null && Date.now() - t.getTime() <= graceMs + health().LONG_POLL_MS;
            const online = l.adapter === 'api' ? recent(l.last_result_at) : recent(polled);
            const boards = l.platforms.map((p) => `${p.name}×${p.capacity}`).join(',') || '-';
            process.stdout.write(
              `${l.name.padEnd(16)} ${l.adapter.padEnd(6)} ${(online ? 'online' : 'offline').padEnd(8)} ${boards.padEnd(32)} ` +
                `token:${l.has_token ? 'yes' : 'no '} last result: ${l.last_result_at?.toISOString() ?? 'never'}\n`,
            );
          }
        } finally {
          await close();
        }
      }),
    );
}
