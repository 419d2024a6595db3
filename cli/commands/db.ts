import type { Command } from 'commander';
import { migrate } from '../../plumbing/db/migrate';
import { serviceConfig } from '../context';
import { lazy } from '../lazy';

const connections = lazy((): typeof import('../../plumbing/temporal/connections') =>
  require('../../plumbing/temporal/connections'),
);
import { runAction } from '../fail';

export function registerDbCommands(program: Command) {
  const db = program.command('db').description('the results database');
  db.command('migrate')
    .description('apply pending migrations (safe to run any number of times)')
    .option(
      '-c, --config <file>',
      'config file (default ./bootfarm.yaml); DATABASE_URL (required, here or as database.url) overrides',
    )
    .action(
      runAction(async (opts: { config?: string }) => {
        const { config } = serviceConfig('migrate', opts.config);
        const sql = await connections().openDb(config);
        try {
          const applied = await migrate(sql);
          process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
        } finally {
          await sql.end({ timeout: 5 });
        }
      }),
    );
}
