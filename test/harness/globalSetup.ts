/**
 * One real Temporal dev server and one real PostgreSQL for the whole jest
 * run, each on a free loopback port; workflow code bundled once. Test files
 * find them through the BF_TEST_* environment variables (inherited by jest's
 * workers, which start after this).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startTemporal } from '../../stack/temporalServer';
import { startPostgres } from '../../stack/postgres';
import { freePort } from '../../stack/ports';

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bootfarm-test-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as an unprivileged user when the tests run as root
  process.stderr.write(`\ntest services in ${dir}\n`);
  const [temporal, pg, bundle] = await Promise.all([
    freePort().then((port) => startTemporal({ port, logFile: join(dir, 'temporal.log'), headless: true })),
    freePort().then((port) =>
      startPostgres({ dataDir: join(dir, 'pg'), port, logFile: join(dir, 'postgres.log'), durable: false }),
    ),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} },
    }),
  ]);
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.BF_TEST_DIR = dir;
  process.env.BF_TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.BF_TEST_DATABASE_URL = pg.url;
  process.env.BF_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as Record<string, unknown>).__bootfarmServices = [temporal, pg];
}
