import type { Command } from 'commander';
import { resolveConfig } from '../context';
import { lazy } from '../lazy';
import { runAction } from '../fail';

const connections = lazy((): typeof import('../../plumbing/temporal/connections') =>
  require('../../plumbing/temporal/connections'),
);
const operations = lazy((): typeof import('../../plumbing/temporal/triggers') =>
  require('../../plumbing/temporal/triggers'),
);

export function registerRunCommand(program: Command) {
  program
    .command('run')
    .description('trigger the pipeline for a revision by hand (the branch head unless COMMIT is given)')
    .argument('<tree>', 'a tree of the config')
    .argument('<branch>', 'one of its branches')
    .argument('[commit]', 'a sha, tag or branch to test instead of the head')
    .option('-c, --config <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)')
    .option('--force', 'run a revision that was already tested again (a new run with its own id)')
    .option('--wait', 'wait for the pipeline to finish and print its result')
    .action(
      runAction(
        async (
          tree: string,
          branch: string,
          commit: string | undefined,
          opts: { config?: string; force?: boolean; wait?: boolean },
        ) => {
          const { config } = resolveConfig(opts.config);
          const { client, close } = await connections().openClient(config);
          try {
            const r = await operations().triggerRevision(client, config, { tree, branch, commit, force: opts.force });
            process.stdout.write(
              `${r.started ? 'started' : 'already started (use --force to run again)'}: ${r.workflowId}\n`,
            );
            if (opts.wait) {
              const result = await client.workflow.getHandle(r.workflowId).result();
              process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            }
          } finally {
            await close();
          }
        },
      ),
    );
}
