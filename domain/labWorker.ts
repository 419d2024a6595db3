/**
 * An operator's switch for the lab workers that run inside one process (the
 * embedded stack, `bootfarm up`). A deployment's lab worker is a process of
 * its own (`bootfarm worker lab --lab NAME`) and is stopped with SIGTERM;
 * both drain the same way: running boots finish, no new ones are taken.
 */

/**
 * running: polls lab-<name>-<platform>; draining: finishes the boots it holds, takes none; stopped: gone.
 * A lab is draining while any of its platforms is, stopped when all are, else running.
 */
export type LabWorkerState = 'running' | 'draining' | 'stopped';

export interface LabWorkerStatus {
  lab: string;
  /** true while the worker takes boots (state running) */
  running: boolean;
  state: LabWorkerState;
  /** boots the lab's workers run now */
  boots: number;
  /** per platform: its boards, the boots running on them, its worker's state */
  platforms?: { name: string; boards: number; boots: number; state: LabWorkerState }[];
  /** when the state last changed (ISO 8601) */
  since: string;
  /** why the worker ended by itself, when it did */
  error?: string;
}

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
