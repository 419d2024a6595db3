/**
 * Determinism guard: every recorded history (test/replay/histories, from
 * real runs on the dev server) must replay against the current workflow
 * code. A change that makes a workflow issue different commands for the
 * same history — which would break runs in flight after a deploy — fails
 * here. Regenerate with `npx tsx scripts/record-histories.ts` when a change
 * is intended (and versioned with patching where runs may be in flight).
 */
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundlePath } from '../harness/services';
import { loadHistories } from './record';
import * as workflowTypes from '../../workflows';

const replayAll = async (histories: { workflowId: string; history: temporal.api.history.v1.IHistory }[]) => {
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: workflowBundlePath() } }, histories)) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message.split('\n')[0]}`);
  }
  return failures;
};

describe('replay of recorded histories', () => {
  const files = loadHistories();

  it('has histories of every workflow type', () => {
    expect(new Set(files.map((f) => f.workflowType))).toEqual(new Set(Object.keys(workflowTypes)));
  });

  it('replays every recorded history against the current workflow code', async () => {
    expect(await replayAll(files.map((f) => ({ workflowId: f.workflowId, history: f.decoded })))).toEqual([]);
  });

  it('notices a workflow that would now issue different commands', async () => {
    // The same history as recorded, with the build scheduled under another activity name: what a
    // reordering or renaming of steps in the workflow code would look like to a run in flight.
    const original = files.find((f) => f.workflowType === 'buildBoot')!;
    const changed = temporal.api.history.v1.History.decode(
      temporal.api.history.v1.History.encode(original.decoded).finish(),
    );
    const scheduled = changed.events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'buildKernel',
    )!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'compileKernel';
    const failures = await replayAll([{ workflowId: original.workflowId, history: changed }]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/Nondeterminism|DeterminismViolation/i);
  });
});
