/**
 * An operator's switch for the lab workers that run inside one process (the
 * embedded stack, `bootfarm up`). A deployment's lab worker is a process of
 * its own (`bootfarm worker lab --lab NAME`) and is stopped with SIGTERM;
 * both drain the same way: running boots finish, no new ones are taken.
 */
import { z } from 'zod';

/**
 * running: polls lab-<name>-<platform>; draining: finishes the boots it holds, takes none; stopped: gone.
 * A lab is draining while any of its platforms is, stopped when all are, else running.
 */
export const labWorkerStates = ['running', 'draining', 'stopped'] as const;
export type LabWorkerState = (typeof labWorkerStates)[number];

export const labWorkerStatusSchema = z
  .strictObject({
    lab: z.string(),
    running: z.boolean().describe('true while the worker takes boots (state running)'),
    state: z.enum(labWorkerStates),
    boots: z.number().int().min(0).describe("boots the lab's workers run now"),
    platforms: z
      .array(
        z.strictObject({
          name: z.string(),
          boards: z.number().int(),
          boots: z.number().int(),
          state: z.enum(labWorkerStates),
        }),
      )
      .optional()
      .describe("per platform: its boards, the boots running on them, its worker's state"),
    since: z.iso.datetime().describe('when the state last changed'),
    error: z.string().optional().describe('why the worker ended by itself, when it did'),
  })
  .meta({ id: 'LabWorker' });
export type LabWorkerStatus = z.infer<typeof labWorkerStatusSchema>;

export interface LabWorkerControl {
  /** undefined when this process runs no worker for that lab */
  status(lab: string): LabWorkerStatus | undefined;
  /** Drain the lab's workers (or one platform's); a stopped or draining worker is left as it is. */
  stop(lab: string, platform?: string): Promise<LabWorkerStatus>;
  /** Run the lab's workers (or one platform's) again; a running one is left as it is. */
  start(lab: string, platform?: string): Promise<LabWorkerStatus>;
}

/** A lab is online when all its known platforms are, offline when none is, partial in between. */
export function labHealthOf(platforms: string[]): 'online' | 'offline' | 'partial' | 'unknown' {
  const known = platforms.filter((h) => h === 'online' || h === 'offline');
  if (!known.length) return 'unknown';
  if (known.every((h) => h === 'online')) return 'online';
  return known.some((h) => h === 'online') ? 'partial' : 'offline';
}

/** A stop or start of a platform the lab does not have. */
export class UnknownPlatformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownPlatformError';
  }
}

/** The switch cannot do that now (a start while the old worker still drains its boots). */
export class LabWorkerConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabWorkerConflictError';
  }
}
