/**
 * Check before dispatch: is anyone serving a board queue (one platform of
 * one lab)? A boot for a platform nobody serves is recorded offline at once
 * instead of waiting out the lab's schedule-to-start timeout. The revision
 * asks once per lab and platform and hands what it saw to its builds; a
 * build trusts "online" for the lab's offline grace (the tolerance the check
 * itself gives a vanished worker) and asks again otherwise — a platform seen
 * offline is always asked again, so one that comes back mid-revision gets
 * its boots. A platform that goes away after being seen online gets boots
 * queued, which its schedule-to-start timeout records offline.
 *
 * Runs from before the per-platform queues (workflows/patches.ts) ask once
 * per lab about the lab's one queue, as they did.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { LabHealthActivities } from '../domain/activityContracts';
import type { BootTarget, BuildBootInput, LabsSeenOnline } from '../domain/types';
import { labHealth } from './activityOptions';
import { boardQueue, labQueue, type LabSpec } from '../domain/pipelineSpec';

const health = proxyLocalActivities<LabHealthActivities>(labHealth);

type Lab = BootTarget['lab'];
type Routing = Pick<BuildBootInput, 'taskQueuePrefix'>;

// Date in workflow code is the workflow task's time, the same on replay.
const now = () => new Date().getTime();

const askLab = (input: Routing, lab: Lab): Promise<boolean> =>
  health.labHasPollers({ lab: lab.name, taskQueue: labQueue(input, lab.name), graceMs: lab.offlineGrace });

/** Asks afresh whether a worker serves a lab's board queue of `platform` (records the platform's health). */
export const boardServed = (input: Routing, lab: Lab, platform: string) =>
  health.labHasPollers({
    lab: lab.name,
    platform,
    taskQueue: boardQueue(input, lab.name, platform),
    graceMs: lab.offlineGrace,
  });

/** The labs and platforms a revision finds served now (one whose check fails is left out: its builds ask again). */
export async function labsSeenOnline(input: Routing, labs: LabSpec[], perBoard: boolean): Promise<LabsSeenOnline> {
  if (!perBoard) {
    const online = await Promise.all(labs.map((l) => askLab(input, l).catch(() => false)));
    return { at: now(), labs: labs.filter((_, i) => online[i]).map((l) => l.name) };
  }
  const seen = await Promise.all(
    labs.map(async (lab) => {
      const served = await Promise.all(
        lab.platforms.map((platform) => boardServed(input, lab, platform).catch(() => false)),
      );
      return [lab.name, lab.platforms.filter((_, i) => served[i])] as const;
    }),
  );
  return {
    at: now(),
    labs: seen.filter(([, platforms]) => platforms.length).map(([lab]) => lab),
    platforms: Object.fromEntries(seen),
  };
}

/** One answer per board queue (per lab, for runs from before) for a build's boots, shared by its boots. */
export function labChecks(input: Pick<BuildBootInput, 'taskQueuePrefix' | 'labsSeenOnline'>, perBoard: boolean) {
  const answers = new Map<string, Promise<boolean>>();
  return (target: BootTarget): Promise<boolean> => {
    const { lab, platform } = target;
    const key = perBoard ? `${lab.name}/${platform.name}` : lab.name;
    let answer = answers.get(key);
    if (!answer) {
      const seen = input.labsSeenOnline;
      const trusted =
        seen &&
        now() - seen.at <= lab.offlineGrace &&
        (perBoard ? seen.platforms?.[lab.name]?.includes(platform.name) : seen.labs.includes(lab.name));
      answer = trusted
        ? Promise.resolve(true)
        : // cannot tell: dispatch, and let the queue's schedule-to-start timeout decide
          (perBoard ? boardServed(input, lab, platform.name) : askLab(input, lab)).catch(() => true);
      answers.set(key, answer);
    }
    return answer;
  };
}
