/**
 * Check before dispatch: is anyone serving a lab's task queue? A boot for
 * a lab nobody serves is recorded offline at once instead of waiting out
 * the lab's schedule-to-start timeout. The revision asks once per lab and
 * hands what it saw to its builds; a build trusts "online" for the lab's
 * offline grace (the tolerance the check itself gives a vanished poller)
 * and asks again otherwise — a lab seen offline is always asked again, so
 * a lab that comes back mid-revision gets its boots. A lab that goes away
 * after being seen online gets boots queued, which its schedule-to-start
 * timeout records offline.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { LabHealthActivities } from '../domain/activityContracts';
import type { BootTarget, BuildBootInput, LabsSeenOnline } from '../domain/types';
import { labHealth } from './activityOptions';
import { labQueue } from '../domain/pipelineSpec';

const health = proxyLocalActivities<LabHealthActivities>(labHealth);

type Lab = BootTarget['lab'];
type Routing = Pick<BuildBootInput, 'taskQueuePrefix'>;

// Date in workflow code is the workflow task's time, the same on replay.
const now = () => new Date().getTime();

const ask = (input: Routing, lab: Lab): Promise<boolean> =>
  health.labHasPollers({ lab: lab.name, taskQueue: labQueue(input, lab.name), graceMs: lab.offlineGrace });

/** The labs a revision finds served now (a lab whose check fails is left out: its builds ask again). */
export async function labsSeenOnline(input: Routing, labs: Lab[]): Promise<LabsSeenOnline> {
  const online = await Promise.all(labs.map((l) => ask(input, l).catch(() => false)));
  return { at: now(), labs: labs.filter((_, i) => online[i]).map((l) => l.name) };
}

/** One answer per lab for a build's boots, shared by that lab's boots. */
export function labChecks(input: Pick<BuildBootInput, 'taskQueuePrefix' | 'labsSeenOnline'>) {
  const answers = new Map<string, Promise<boolean>>();
  return (target: BootTarget): Promise<boolean> => {
    const { lab } = target;
    let answer = answers.get(lab.name);
    if (!answer) {
      const seen = input.labsSeenOnline;
      answer =
        seen && seen.labs.includes(lab.name) && now() - seen.at <= lab.offlineGrace
          ? Promise.resolve(true)
          : // cannot tell: dispatch, and let the queue's schedule-to-start timeout decide
            ask(input, lab).catch(() => true);
      answers.set(lab.name, answer);
    }
    return answer;
  };
}
