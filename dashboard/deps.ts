import type { Sql } from 'postgres';
import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../plumbing/store/types';
import type { LabWorkerControl } from '../domain/labWorker';
import type { BisectionRequest } from '../domain/bisect';
import type { TryConfig, TryRequest } from '../domain/tryRun';

export type { BisectionRequest } from '../domain/bisect';

/** What `POST /api/revisions` and `POST /api/bisections` get back from the injected starters. */
export interface StartedWorkflow {
  workflowId: string;
  runId?: string;
  /** false when a run with this id already existed (the id is the idempotency key) */
  started?: boolean;
}

/** Starts workflow `revisionPipeline` (id from domain/ids.ts); `force` runs a tested revision again. */
export type StartRevision = (
  tree: string,
  branch: string,
  commit?: string,
  force?: boolean,
) => Promise<StartedWorkflow>;
/** Starts workflow `bisect` (id from domain/ids.ts). */
export type StartBisection = (request: BisectionRequest) => Promise<StartedWorkflow>;
/**
 * Starts workflow `tryKernel` for a developer (plumbing/temporal/tryRuns.ts);
 * throws an error with a `field` for a request it refuses.
 */
export type StartTry = (developer: string, request: TryRequest) => Promise<{ workflowId: string }>;
/** Cancels the bisection workflow with this id. */
export type CancelBisection = (workflowId: string) => Promise<void>;

export interface DashboardOptions {
  sql: Sql;
  store: ArtifactStore;
  /** e.g. http://127.0.0.1:8233 */
  temporalUiUrl: string;
  temporalNamespace: string;
  /** enables the operator endpoints (Authorization: Bearer <adminToken>) */
  adminToken?: string;
  /** the embedded outbox of .eml files, listed at /outbox */
  outboxDir?: string;
  /** absolute base URL for links that leave the dashboard (KCIDB export, lab jobs); default: the listen address */
  publicUrl?: string;
  /** Host names besides localhost, addresses and publicUrl's that the dashboard answers to (DNS rebinding guard) */
  allowedHosts?: string[];
  /** completes API-lab boot activities with their stored task token */
  client?: Client;
  startRevision?: StartRevision;
  startBisection?: StartBisection;
  cancelBisection?: CancelBisection;
  /** `bootfarm try` (POST /api/try), and its limits (the config's try section) */
  startTry?: StartTry;
  tryLimits?: TryConfig;
  /** stops and starts the lab workers of this process (the embedded stack): POST /api/labs/{lab}/worker */
  labWorkers?: LabWorkerControl;
  /** where unexpected errors are written; default console.error */
  logError?: (message: string, error: unknown) => void;
  /**
   * What the dashboard depends on that is down now (a service's dependency
   * watch): a request that fails meanwhile is answered 503 with Retry-After
   * and not logged again, the outage having been logged once.
   */
  unavailable?: () => string[];
}

export interface Deps extends DashboardOptions {
  /** the base URL for absolute links, known once the server listens */
  baseUrl(): string;
}
