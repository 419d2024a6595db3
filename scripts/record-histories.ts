/**
 * Regenerate the workflow histories the replay test replays
 * (test/replay/histories/*.json): runs the dev-server pipeline tests with
 * BF_RECORD_HISTORIES=1, which makes them save the histories of their runs.
 * Run it after an intended change to a workflow's commands, review the diff,
 * and commit the new histories together with the change (keep the old ones
 * too while runs recorded with the old code may still be in flight).
 *
 *   npx tsx scripts/record-histories.ts
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const RECORDING_TESTS = [
  'test/workflows/treeMonitor.test.ts',
  'test/report/reportWorkflow.test.ts',
  'test/smoke.test.ts',
  'test/scenarios/flappingRegression.test.ts',
  'test/bisect/workflow.test.ts',
  'test/bisect/noise.test.ts',
  'test/scenarios/busyBoard.test.ts',
  'test/retention/schedule.test.ts',
  'test/try/tryKernel.test.ts',
];

const jest = spawnSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--runTestsByPath', ...RECORDING_TESTS],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, BF_RECORD_HISTORIES: '1' },
  },
);
if (jest.status !== 0) {
  console.error('record-histories: the recording tests failed; histories may be incomplete');
  process.exit(jest.status ?? 1);
}
const dir = join(ROOT, 'test', 'replay', 'histories');
console.log(`record-histories: ${readdirSync(dir).filter((f) => f.endsWith('.json')).length} histories in ${dir}`);
