/**
 * The workflow of test/slow/temporalCluster.test.ts: one activity, a wait
 * for a signal (the test crashes a Temporal node meanwhile), one more
 * activity.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface StepActivities {
  step(name: string): Promise<string>;
}

export const proceed = defineSignal('proceed');

const { step } = proxyActivities<StepActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds' },
});

export async function stepSignalStep(name: string): Promise<string[]> {
  let go = false;
  setHandler(proceed, () => {
    go = true;
  });
  const first = await step(`${name}/1`);
  await condition(() => go);
  const second = await step(`${name}/2`);
  return [first, second];
}
