/**
 * A builder worker in a process of its own, whose gcc takes a few seconds per
 * file, so a test can kill it in the middle of a real make.
 *   node -r tsx/cjs slowBuilder.ts ADDRESS TASK_QUEUE WORK_DIR MIRROR_DIR STORE_DIR SLOW_BIN_DIR
 */
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { createBuildActivities } from '../../../activities/build/index';
import { DirStore } from '../../../plumbing/store/dirStore';

async function main() {
  const [address, taskQueue, workDir, mirrorDir, storeDir, slowBin] = process.argv.slice(2);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address });
  const activities = createBuildActivities({
    store: new DirStore(storeDir),
    workDir,
    jobs: 1,
    ccache: false,
    builderName: 'builder-a',
    git: { mirrorDir },
    env: { PATH: `${slowBin}:${process.env.PATH}` },
  });
  const worker = await Worker.create({ connection, taskQueue, activities });
  await worker.run();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
