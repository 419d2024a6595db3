/**
 * The deployment, as one table: which services it has, and for each
 * Bootfarm service its command, its environment and so the secrets it
 * holds. deploy/hosts.ts starts exactly this on hosts of this machine (the
 * deployment tests run it), and docker-compose.yml must describe exactly
 * this (test/dockerCompose.test.ts compares them), so the two cannot drift.
 *
 * Services find each other by name, as on real hosts: `temporal-frontend`
 * resolves to every Temporal server node (an SDK client takes one address
 * and fails over between the addresses of its name), `results-db`, `s3`,
 * `mail`, `dashboard`. On this machine each host's own /etc/hosts maps the
 * names; in compose, Docker's DNS (a network alias for the Temporal nodes).
 *
 * Environment values may name a deployment setting as `${NAME}`: an
 * operator sets it (compose: `${NAME:?…}`, the first start fails without
 * it), the hosts deployment generates it. Secrets have no default anywhere.
 */

import { SECRET_ENV_VARS, type ServiceKind } from '../domain/serviceSecrets';

export type BootfarmServiceKind = ServiceKind;

/** Settings of a whole deployment, named in the services' environments. */
export const DEPLOYMENT_SETTINGS = {
  BOOTFARM_DB_PASSWORD: { secret: true, what: "the results database's password (role bootfarm)" },
  TEMPORAL_DB_PASSWORD: { secret: true, what: "Temporal's database password (role temporal)" },
  BOOTFARM_ADMIN_TOKEN: { secret: true, what: "the dashboard's operator token" },
  S3_ACCESS_KEY_ID: { secret: true, what: 'an S3 key that may read and write the artifact bucket only' },
  S3_SECRET_ACCESS_KEY: { secret: true, what: 'its secret' },
  S3_ADMIN_ACCESS_KEY_ID: { secret: true, what: "the S3 server's admin key (creates the bucket; no service holds it)" },
  S3_ADMIN_SECRET_ACCESS_KEY: { secret: true, what: 'its secret' },
  DASHBOARD_URL: { secret: false, what: 'the dashboard as users and API labs reach it (links in mails, job URLs)' },
  TEMPORAL_UI_URL: { secret: false, what: 'the Temporal Web UI as users reach it (the dashboard links to it)' },
} as const;
export type DeploymentSetting = keyof typeof DEPLOYMENT_SETTINGS;

/**
 * Environment variables that carry a secret, whatever host holds them:
 * Bootfarm's (domain/serviceSecrets.ts, which says which kind may hold
 * which), Temporal's database password (its server nodes), an API lab's
 * token (the lab).
 */
export const SECRET_ENV: readonly string[] = [...SECRET_ENV_VARS, 'TEMPORAL_DB_PASSWORD', 'BOOTFARM_LAB_TOKEN'];

export const ARTIFACT_BUCKET = 'bootfarm-artifacts';
export const PORTS = {
  temporalFrontend: 7233,
  temporalUi: 8080,
  postgres: 5432,
  s3: 8333,
  smtp: 1025,
  dashboard: 8080,
  git: 9418,
} as const;

/** Where every Bootfarm service reads its config file (trees, configs, platforms, labs: no secrets). */
export const CONFIG_PATH = '/etc/bootfarm/bootfarm.yaml';

const temporal = {
  BOOTFARM_CONFIG: CONFIG_PATH,
  TEMPORAL_ADDRESS: `temporal-frontend:${PORTS.temporalFrontend}`,
  TEMPORAL_NAMESPACE: 'default',
};
const database = { DATABASE_URL: `postgres://bootfarm:\${BOOTFARM_DB_PASSWORD}@results-db:${PORTS.postgres}/bootfarm` };
const artifacts = {
  S3_ENDPOINT: `http://s3:${PORTS.s3}`,
  S3_BUCKET: ARTIFACT_BUCKET,
  S3_REGION: 'us-east-1',
  S3_ACCESS_KEY_ID: '${S3_ACCESS_KEY_ID}',
  S3_SECRET_ACCESS_KEY: '${S3_SECRET_ACCESS_KEY}',
};

export interface BootfarmService {
  /** the host on this machine, the service in compose */
  name: string;
  kind: BootfarmServiceKind;
  /** `bootfarm` argv */
  command: string[];
  env: Record<string, string>;
  /** runs once to completion before the others start */
  oneShot?: boolean;
  /**
   * How long a stop may take: SIGTERM drains (the kind's grace, workers/process.ts), then the supervisor kills.
   * A builder's is builder.shutdownGrace (30 min) and a lab's its bootTimeout, each plus 30 s.
   */
  stopGraceSeconds?: number;
  /** ports it listens on */
  ports?: number[];
}

/** The lab each lab-worker service serves, and the lab whose API client the deployment runs. */
export const LABS = { 'lab-a': 'farm-a', 'lab-b': 'farm-b', api: 'farm-api' } as const;

export const BOOTFARM_SERVICES: readonly BootfarmService[] = [
  {
    name: 'migrate',
    kind: 'migrate',
    command: ['db', 'migrate'],
    env: { BOOTFARM_CONFIG: CONFIG_PATH, ...database },
    oneShot: true,
  },
  ...[1, 2].map(
    (n): BootfarmService => ({
      name: `orchestrator-${n}`,
      kind: 'orchestrator',
      command: ['worker', 'orchestrator'],
      stopGraceSeconds: 60,
      env: {
        ...temporal,
        ...database,
        ...artifacts,
        SMTP_URL: `smtp://mail:${PORTS.smtp}`,
        DASHBOARD_URL: '${DASHBOARD_URL}',
      },
    }),
  ),
  ...[1, 2].map(
    (n): BootfarmService => ({
      name: `builder-${n}`,
      kind: 'builder',
      command: ['worker', 'builder'],
      stopGraceSeconds: 30 * 60 + 30,
      env: { ...temporal, ...artifacts },
    }),
  ),
  ...(['lab-a', 'lab-b'] as const).map(
    (name): BootfarmService => ({
      name,
      kind: 'lab',
      command: ['worker', 'lab', '--lab', LABS[name]],
      stopGraceSeconds: 6 * 60,
      env: { ...temporal, ...artifacts },
    }),
  ),
  {
    name: 'dashboard',
    kind: 'dashboard',
    command: ['dashboard', '--host', '0.0.0.0', '--port', String(PORTS.dashboard)],
    stopGraceSeconds: 30,
    env: {
      ...temporal,
      ...database,
      ...artifacts,
      BOOTFARM_ADMIN_TOKEN: '${BOOTFARM_ADMIN_TOKEN}',
      DASHBOARD_URL: '${DASHBOARD_URL}',
      TEMPORAL_UI_URL: '${TEMPORAL_UI_URL}',
    },
    ports: [PORTS.dashboard],
  },
];

/** The services that are not Bootfarm's, by the name others reach them at. */
export const INFRASTRUCTURE = [
  'temporal-db',
  'results-db',
  'temporal-1',
  'temporal-2',
  'temporal-ui',
  's3',
  'mail',
] as const;

/**
 * Hosts of the deployment on this machine that stand for the world outside
 * it: the git server of the monitored trees (kernel.org), and an API lab in
 * another city. Not in docker-compose.yml.
 */
export const OUTSIDE = ['git', 'api-lab'] as const;

/** The secret environment variables a service's environment holds (its table entry). */
export function secretsOf(service: Pick<BootfarmService, 'env'>): string[] {
  return SECRET_ENV.filter((v) => v in service.env);
}

/** The deployment settings a value names (`${NAME}`). */
export function settingsIn(value: string): DeploymentSetting[] {
  return [...value.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => {
    if (!(m[1] in DEPLOYMENT_SETTINGS)) throw new Error(`unknown deployment setting ${m[1]}`);
    return m[1] as DeploymentSetting;
  });
}

/** A service's environment with the deployment's settings filled in. */
export function environmentOf(
  service: BootfarmService,
  settings: Record<DeploymentSetting, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.env).map(([k, v]) => [
      k,
      v.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
        const value = settings[name as DeploymentSetting];
        if (value === undefined) throw new Error(`deployment setting ${name} is not set`);
        return value;
      }),
    ]),
  );
}
