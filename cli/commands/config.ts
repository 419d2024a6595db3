import type { Command } from 'commander';
import { loadConfig } from '../../plumbing/loadConfig';
import { runAction } from '../fail';

export function registerConfigCommands(program: Command) {
  const config = program.command('config').description('work with bootfarm.yaml');
  config
    .command('check')
    .description('validate a config file; prints a summary, or every problem with its file, line and path')
    .argument('<file>', 'the YAML config file')
    .action(
      runAction(async (file: string) => {
        const cfg = loadConfig(file);
        const branches = cfg.trees.reduce((n, t) => n + t.branches.length, 0);
        process.stdout.write(
          `${file}: ok: ${cfg.trees.length} trees, ${branches} branches, ${cfg.buildConfigs.length} build configs, ` +
            `${cfg.platforms.length} platforms, ${cfg.labs.length} labs\n`,
        );
      }),
    );
}
