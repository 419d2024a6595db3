/**
 * Which secrets each kind of service holds (issue: least privilege per host).
 *
 * Builders run code from the monitored trees (Makefiles, Kconfig scripts,
 * host programs), and lab workers run on hosts that a lab's owners operate,
 * often in another city: neither may hold the results database or the admin
 * token. The dashboard alone holds the admin token (it serves the operator
 * API); orchestrators and the dashboard hold the results database (the
 * orchestrators write results, the dashboard shows them and records lab
 * posts); only orchestrators send mail. Every service that moves artifacts
 * holds credentials for the artifact bucket only (docs/deployment.md: why
 * not presigned URLs), and every service that talks to Temporal may hold
 * its client key or API key.
 *
 * The service commands refuse to start when their environment or config file
 * holds a secret their kind must not hold (`unwantedSecrets`), and the
 * deployment test asserts per host which secrets its environment holds.
 */
import type { BootfarmConfig } from './config';

/** The long-running services, one per host in a deployment, and the one-shot migration. */
export const SERVICE_KINDS = ['orchestrator', 'builder', 'lab', 'dashboard', 'migrate'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** A credential, by what it opens. */
export type Credential = 'resultsDatabase' | 'adminToken' | 'artifactBucket' | 'mail' | 'temporal';

/** The environment variables and config keys that carry each credential. */
export const CREDENTIALS: Record<Credential, { what: string; env: readonly string[]; config: readonly string[] }> = {
  resultsDatabase: { what: 'the results database', env: ['DATABASE_URL'], config: ['database.url'] },
  adminToken: { what: 'the admin token', env: ['BOOTFARM_ADMIN_TOKEN'], config: ['dashboard.adminToken'] },
  artifactBucket: {
    what: 'the artifact bucket',
    env: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    config: ['artifacts.accessKeyId', 'artifacts.secretAccessKey'],
  },
  mail: { what: 'the mail server (SMTP_URL may carry a password)', env: ['SMTP_URL'], config: ['email.smtpUrl'] },
  temporal: {
    what: "Temporal's client key or API key",
    env: ['TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
    config: ['temporal.apiKey', 'temporal.tls.clientKeyPath'],
  },
};

/**
 * What each kind may hold, and of that what it cannot start without. Temporal
 * and artifact credentials are never required: a cluster without TLS or API
 * keys needs none, and a store may be a directory or reached through the
 * host's own S3 role.
 */
export const SERVICE_SECRETS: Record<ServiceKind, { holds: readonly Credential[]; requires: readonly Credential[] }> = {
  orchestrator: { holds: ['resultsDatabase', 'artifactBucket', 'mail', 'temporal'], requires: ['resultsDatabase'] },
  builder: { holds: ['artifactBucket', 'temporal'], requires: [] },
  lab: { holds: ['artifactBucket', 'temporal'], requires: [] },
  dashboard: {
    holds: ['resultsDatabase', 'adminToken', 'artifactBucket', 'temporal'],
    requires: ['resultsDatabase'],
  },
  migrate: { holds: ['resultsDatabase'], requires: ['resultsDatabase'] },
};

/** Every environment variable that carries a secret. */
export const SECRET_ENV_VARS: readonly string[] = Object.values(CREDENTIALS).flatMap((c) => c.env);

/** The secret environment variables a host running this kind may have set. */
export function secretEnvVarsFor(kind: ServiceKind): string[] {
  return SERVICE_SECRETS[kind].holds.flatMap((c) => CREDENTIALS[c].env);
}

/** The secret environment variables set (non-empty) in `env`: what a host's environment holds. */
export function secretEnvVarsIn(env: Record<string, string | undefined>): string[] {
  return SECRET_ENV_VARS.filter((v) => Boolean(env[v]));
}

function configValue(config: unknown, path: string): unknown {
  let node = config;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export interface UnwantedSecret {
  credential: Credential;
  /** where it was found: environment variable names and config keys */
  where: string[];
}

/**
 * Secrets that `kind` must not hold, found in its environment or in its
 * config file (the raw file, before the environment is applied).
 */
export function unwantedSecrets(
  kind: ServiceKind,
  env: Record<string, string | undefined>,
  fileConfig?: BootfarmConfig,
): UnwantedSecret[] {
  const found: UnwantedSecret[] = [];
  for (const [credential, c] of Object.entries(CREDENTIALS) as [Credential, (typeof CREDENTIALS)[Credential]][]) {
    if (SERVICE_SECRETS[kind].holds.includes(credential)) continue;
    const where = [
      ...c.env.filter((v) => Boolean(env[v])),
      ...(fileConfig ? c.config.filter((k) => Boolean(configValue(fileConfig, k))) : []),
    ];
    if (where.length) found.push({ credential, where });
  }
  return found;
}

/** One line for a service that holds what it must not: names each variable or key, never its value. */
export function describeUnwanted(kind: ServiceKind, unwanted: UnwantedSecret[], file?: string): string {
  const parts = unwanted.map((u) => {
    const names = u.where.map((w) => (w.includes('.') ? `${w} in ${file ?? 'the config file'}` : w));
    return `${CREDENTIALS[u.credential].what} (${names.join(', ')})`;
  });
  const why =
    kind === 'builder'
      ? 'builders run code from the monitored trees'
      : kind === 'lab'
        ? 'lab workers run on hosts of their own labs'
        : `only ${holdersOf(unwanted[0].credential)} may hold it`;
  const who = {
    orchestrator: 'an orchestrator',
    builder: 'a builder',
    lab: 'a lab worker',
    dashboard: 'the dashboard',
  };
  return `${kind === 'migrate' ? 'the migration' : who[kind]} must not hold ${parts.join('; ')}: ${why}; remove it from this host's environment and config file`;
}

function holdersOf(credential: Credential): string {
  const kinds = SERVICE_KINDS.filter((k) => k !== 'migrate' && SERVICE_SECRETS[k].holds.includes(credential));
  return kinds.map((k) => (k === 'dashboard' ? 'the dashboard' : `${k}s`)).join(' and ') || 'no service';
}
