/**
 * An operator's switch for the lab workers that run inside one process (the
 * embedded stack, `bootfarm up`). A deployment's lab worker is a process of
 * its own (`bootfarm worker lab --lab NAME`) and is stopped with SIGTERM;
 * both drain the same way: running boots finish, no new ones are taken.
 */

/** running: polls lab-<name>-<platform> for each platform; draining: finishes the boots it holds, takes none; stopped: gone */
export type LabWorkerState = 'running' | 'draining' | 'stopped';

export interface LabWorkerStatus {
  lab: string;
  /** true while the worker takes boots (state running) */
  running: boolean;
  state: LabWorkerState;
  /** boots the lab's workers run now */
  boots: number;
  /** per platform: its boards and the boots running on them */
  platforms?: { name: string; boards: number; boots: number }[];
  /** when the state last changed (ISO 8601) */
  since: string;
  /** why the worker ended by itself, when it did */
  error?: string;
}

export interface LabWorkerControl {
  /** undefined when this process runs no worker for that lab */
  status(lab: string): LabWorkerStatus | undefined;
  /** Drain the lab's worker; a stopped or draining worker is left as it is. */
  stop(lab: string): Promise<LabWorkerStatus>;
  /** Run the lab's worker again; a running one is left as it is. */
  start(lab: string): Promise<LabWorkerStatus>;
}

/** The switch cannot do that now (a start while the old worker still drains its boots). */
export class LabWorkerConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabWorkerConflictError';
  }
}
