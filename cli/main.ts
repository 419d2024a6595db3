import { Command } from 'commander';
import { registerConfigCommands } from './commands/config';
import { registerDbCommands } from './commands/db';
import { registerUpCommand } from './commands/up';
import { registerWorkerCommand } from './commands/worker';
import { registerRunCommand } from './commands/run';
import { registerBisectCommand } from './commands/bisect';
import { registerLabCommands } from './commands/lab';
import { registerDashboardCommand } from './commands/dashboard';
import { registerStatusCommand } from './commands/status';
import { registerTryCommand } from './commands/try';

const program = new Command()
  .name('bootfarm')
  .description('Kernel CI on Temporal: build, boot, report and bisect every change of a monitored kernel tree')
  .version(require('../package.json').version)
  .showHelpAfterError('(add --help for usage)');

registerUpCommand(program);
registerWorkerCommand(program);
registerDashboardCommand(program);
registerConfigCommands(program);
registerDbCommands(program);
registerRunCommand(program);
registerBisectCommand(program);
registerLabCommands(program);
registerStatusCommand(program);
registerTryCommand(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`bootfarm: ${e.message}\n`);
  process.exit(1);
});
