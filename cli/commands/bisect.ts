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

export function registerBisectCommand(program: Command) {
  program
    .command('bisect')
    .description('find the commit that broke a boot: bisect GOOD..BAD of TREE for one config on one platform')
    .argument('<tree>', 'a tree of the config')
    .requiredOption('--good <ref>', 'a commit that boots')
    .requiredOption('--bad <ref>', 'a commit that does not boot')
    .requiredOption('--config <name>', 'the build config')
    .requiredOption('--platform <name>', 'the platform')
    .option('--lab <name>', 'the lab to boot in (default: the first that has the platform)')
    .option('--branch <name>', "the branch, for the report (default: the tree's first)")
    .option('-c, --config-file <file>', 'config file (default ./bootfarm.yaml or BOOTFARM_CONFIG)')
    .option('--wait', 'wait for the verdict and print it')
    .action(
      runAction(
        async (
          tree: string,
          opts: {
            good: string;
            bad: string;
            config: string;
            platform: string;
            lab?: string;
            branch?: string;
            configFile?: string;
            wait?: boolean;
          },
        ) => {
          const { config } = resolveConfig(opts.configFile);
          const { client, close } = await connections().openClient(config);
          try {
            const r = await operations().triggerBisection(client, config, {
              tree,
              branch: opts.branch,
              good: opts.good,
              bad: opts.bad,
              config: opts.config,
              platform: opts.platform,
              lab: opts.lab,
            });
            process.stdout.write(`${r.started ? 'started' : 'already started'}: ${r.workflowId}\n`);
            if (opts.wait)
              process.stdout.write(
                `${JSON.stringify(await client.workflow.getHandle(r.workflowId).result(), null, 2)}\n`,
              );
          } finally {
            await close();
          }
        },
      ),
    );
}
