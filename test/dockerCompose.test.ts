/**
 * docker-compose.yml describes the deployment the tests run on this
 * machine (deploy/hosts.ts): the same services, the same commands, the
 * same environment per service and so the same secrets, ports bound to
 * loopback unless the operator says otherwise, no password with a default,
 * and the same Temporal server build and configuration. Both follow one
 * table, deploy/topology.ts; this test compares the file with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import pins from '../scripts/pins.json';
import {
  BOOTFARM_SERVICES,
  CONFIG_PATH,
  DEPLOYMENT_SETTINGS,
  INFRASTRUCTURE,
  SECRET_ENV,
  secretsOf,
  type DeploymentSetting,
} from '../deploy/topology';
import { nodeEnvironment } from '../stack/temporalCluster';
import { CONNECTION_ENV_VARS, TEMPORAL_ENV_VARS } from '../domain/envVars';
import { SERVICE_SECRETS, CREDENTIALS, secretEnvVarsFor } from '../domain/serviceSecrets';

const root = join(__dirname, '..');
interface ComposeService {
  image?: string;
  build?: { dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, { aliases?: string[] }>;
  depends_on?: Record<string, { condition: string }> | string[];
  restart?: string;
  stop_grace_period?: string;
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = Object.entries(compose.services);
const dockerfile = readFileSync(join(root, 'docker', 'temporal.Dockerfile'), 'utf8');

/** The one-shot jobs compose needs that the hosts deployment does in code. */
const SETUP_JOBS = ['temporal-schema', 'temporal-setup', 's3-config', 's3-bucket'];

const isSetting = (name: string): name is DeploymentSetting => name in DEPLOYMENT_SETTINGS;

/**
 * A compose value as the table writes it: `${NAME:?…}` and `${NAME:-…}` of a
 * deployment setting are `${NAME}`; any other `${NAME:-default}` (an
 * operator's override of a fixed value) is its default.
 */
function asInTable(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, _op: string, rest: string) =>
    isSetting(name) ? `\${${name}}` : (rest ?? ''),
  );
}

describe('docker-compose.yml describes the tested deployment (deploy/topology.ts)', () => {
  it('has exactly the services of the table, the infrastructure and the setup jobs', () => {
    const expected = [...BOOTFARM_SERVICES.map((s) => s.name), ...INFRASTRUCTURE, ...SETUP_JOBS].sort();
    expect(services.map(([n]) => n).sort()).toEqual(expected);
  });

  it('runs each Bootfarm service with the command and the stop grace of the table', () => {
    for (const s of BOOTFARM_SERVICES) {
      const c = compose.services[s.name];
      expect({ name: s.name, image: c.image, command: c.command, entrypoint: c.entrypoint }).toEqual({
        name: s.name,
        image: expect.stringMatching(/^bootfarm\/bootfarm:/),
        command: s.command,
        entrypoint: undefined,
      });
      if (s.oneShot) expect(c.restart).toBe('no');
      // a supervisor that kills before the drain is over turns a finishing build into a retried one
      else
        expect({ name: s.name, grace: c.stop_grace_period }).toEqual({ name: s.name, grace: `${s.stopGraceSeconds}s` });
    }
  });

  it('knows every variable the services read from the environment', () => {
    const read = new Set<string>();
    for (const f of ['plumbing/loadConfig.ts', 'cli/context.ts'])
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) read.add(m[1]);
    const known: string[] = [
      ...CONNECTION_ENV_VARS,
      ...TEMPORAL_ENV_VARS,
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ];
    expect([...read].filter((v) => !known.includes(v))).toEqual([]);
    // and the table uses no variable that nothing reads
    const used = new Set(BOOTFARM_SERVICES.flatMap((s) => Object.keys(s.env)));
    expect([...used].filter((v) => !known.includes(v))).toEqual([]);
  });

  it('gives each Bootfarm service exactly the environment of the table, so the same secrets', () => {
    for (const s of BOOTFARM_SERVICES) {
      const env = compose.services[s.name].environment ?? {};
      const inTable = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, asInTable(String(v))]));
      expect({ name: s.name, env: inTable }).toEqual({ name: s.name, env: s.env });
      expect({ name: s.name, secrets: SECRET_ENV.filter((v) => v in env) }).toEqual({
        name: s.name,
        secrets: secretsOf(s),
      });
    }
  });

  it('gives each kind only the secrets domain/serviceSecrets.ts lets it hold, and those it needs', () => {
    for (const s of BOOTFARM_SERVICES) {
      const held = secretsOf(s);
      expect({ name: s.name, unwanted: held.filter((v) => !secretEnvVarsFor(s.kind).includes(v)) }).toEqual({
        name: s.name,
        unwanted: [],
      });
      const missing = SERVICE_SECRETS[s.kind].requires.filter((c) => !CREDENTIALS[c].env.some((v) => held.includes(v)));
      expect({ name: s.name, missing }).toEqual({ name: s.name, missing: [] });
    }
  });

  it('holds the least privilege the issue asks for', () => {
    const holders = (v: string) => BOOTFARM_SERVICES.filter((s) => v in s.env).map((s) => s.kind);
    expect(holders('BOOTFARM_ADMIN_TOKEN')).toEqual(['dashboard']);
    expect([...new Set(holders('DATABASE_URL'))].sort()).toEqual(['dashboard', 'migrate', 'orchestrator']);
    for (const s of BOOTFARM_SERVICES.filter((x) => x.kind === 'builder' || x.kind === 'lab'))
      expect({ name: s.name, secrets: secretsOf(s) }).toEqual({
        name: s.name,
        secrets: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
      });
  });

  it('has no secret with a default: every one is required (${VAR:?…})', () => {
    for (const [name, s] of services)
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const refs = [...String(value).matchAll(/\$\{([A-Z0-9_]+)(:[?-])?/g)];
        for (const [, ref, op] of refs)
          if (isSetting(ref) && DEPLOYMENT_SETTINGS[ref].secret)
            expect({ name, key, ref, op }).toEqual({ name, key, ref, op: ':?' });
        if (/PASSWORD|SECRET|TOKEN/.test(key) || key === 'DATABASE_URL')
          expect({ name, key, fromSetting: refs.length > 0 }).toEqual({ name, key, fromSetting: true });
      }
  });

  it("publishes exactly the table's ports of each Bootfarm service, and mounts the config where BOOTFARM_CONFIG says", () => {
    for (const s of BOOTFARM_SERVICES) {
      const c = compose.services[s.name];
      const containerPorts = (c.ports ?? []).map((p) => Number(String(p).split(':').pop()));
      expect({ name: s.name, ports: containerPorts }).toEqual({ name: s.name, ports: s.ports ?? [] });
      const mounted = (c.volumes ?? []).map((v) => String(v).split(':').slice(-2));
      expect({ name: s.name, config: mounted.some(([at, mode]) => at === CONFIG_PATH && mode === 'ro') }).toEqual({
        name: s.name,
        config: s.env.BOOTFARM_CONFIG === CONFIG_PATH,
      });
    }
  });

  it('hands each deployment secret to the services that need it and to no other', () => {
    const holders = (setting: string) =>
      services
        .filter(([, s]) => Object.values(s.environment ?? {}).some((v) => String(v).includes(`\${${setting}:`)))
        .map(([n]) => n)
        .sort();
    const bootfarmHolders = (setting: string) =>
      BOOTFARM_SERVICES.filter((s) => Object.values(s.env).some((v) => v.includes(`\${${setting}}`))).map(
        (s) => s.name,
      );
    // besides the table's services: the servers that check a secret, and the jobs that set them up
    const infrastructure: Record<string, string[]> = {
      BOOTFARM_DB_PASSWORD: ['results-db'],
      TEMPORAL_DB_PASSWORD: ['temporal-1', 'temporal-2', 'temporal-db', 'temporal-schema'],
      BOOTFARM_ADMIN_TOKEN: [],
      S3_ACCESS_KEY_ID: ['s3-config'],
      S3_SECRET_ACCESS_KEY: ['s3-config'],
      S3_ADMIN_ACCESS_KEY_ID: ['s3-bucket', 's3-config'],
      S3_ADMIN_SECRET_ACCESS_KEY: ['s3-bucket', 's3-config'],
    };
    const secrets = Object.entries(DEPLOYMENT_SETTINGS)
      .filter(([, v]) => v.secret)
      .map(([k]) => k);
    expect(Object.keys(infrastructure).sort()).toEqual([...secrets].sort());
    for (const setting of secrets)
      expect({ setting, holders: holders(setting) }).toEqual({
        setting,
        holders: [...bootfarmHolders(setting), ...infrastructure[setting]].sort(),
      });
  });

  it('publishes ports on 127.0.0.1 unless BIND_ADDRESS says otherwise, none twice', () => {
    const published = services.flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, p: String(p) })));
    expect(published.length).toBeGreaterThan(0);
    for (const { name, p } of published)
      expect({ name, p }).toEqual({ name, p: expect.stringMatching(/^\$\{BIND_ADDRESS:-127\.0\.0\.1\}:\d+:\d+$/) });
    const hostPorts = published.map(({ p }) => p.split(':').slice(-2)[0]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('pins every image to an explicit tag', () => {
    for (const [name, s] of services) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/),
      });
      expect(s.image).not.toMatch(/:latest$/);
    }
  });

  it('runs the Temporal server build and configuration the tests run', () => {
    // the Dockerfile builds the pinned releases from the Go module proxy, as scripts/build-temporal.js does
    expect(dockerfile).toContain(`ARG TEMPORAL_SERVER_VERSION=${pins.go['temporal-server'].version}`);
    expect(dockerfile).toContain(`ARG TEMPORAL_UI_SERVER_VERSION=${pins.go['temporal-ui-server'].version}`);
    for (const [binary, pkg] of Object.entries(pins.go['temporal-server'].binaries))
      expect({ binary, built: dockerfile.includes(`go.temporal.io/server/${pkg}@`) }).toEqual({ binary, built: true });
    expect(dockerfile).toContain('COPY deploy/temporal/ /etc/temporal/');
    const nodes = ['temporal-1', 'temporal-2'].map((n) => compose.services[n]);
    const knownVars = Object.keys(
      nodeEnvironment(
        { name: 'a', address: '10.0.0.1' },
        { name: 'a', address: '10.0.0.1' },
        {
          host: 'h',
          port: 5432,
          user: 'u',
          password: 'p',
        },
      ),
    );
    for (const node of nodes) {
      expect(node.image).toBe(`bootfarm/temporal:${pins.go['temporal-server'].version}`);
      expect(node.build?.dockerfile).toBe('docker/temporal.Dockerfile');
      // every variable is one server.yaml reads; the same cluster address on every node
      for (const v of Object.keys(node.environment ?? {})) expect(knownVars).toContain(v);
      expect(node.environment?.TEMPORAL_CLUSTER_ADDRESS).toBe('temporal-1:7233');
      expect(node.environment?.TEMPORAL_DYNAMIC_CONFIG).toBe('/etc/temporal/dynamicconfig.yaml');
      // one name for every frontend: an SDK client fails over between its addresses
      expect(node.networks?.default.aliases).toEqual(['temporal-frontend']);
    }
    // on a fresh database the first node starts alone
    expect(compose.services['temporal-2'].depends_on).toEqual({ 'temporal-1': { condition: 'service_healthy' } });
    expect(compose.services['temporal-ui'].command?.slice(0, 5)).toEqual([
      'temporal-ui-server',
      '--root',
      '/etc/temporal',
      '--config',
      'ui',
    ]);
    expect(compose.services['temporal-setup'].entrypoint).toEqual([
      'node',
      '--require',
      'tsx/cjs',
      'deploy/temporalSetup.ts',
    ]);
  });

  it('runs SeaweedFS and PostgreSQL at the releases the tests run', () => {
    expect(compose.services.s3.image).toBe(`chrislusf/seaweedfs:${pins.pypi.weed.version}`);
    // the tests' PostgreSQL is the embedded-postgres package's
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const [major, minor] = pkg.dependencies['embedded-postgres'].split('.');
    for (const db of ['temporal-db', 'results-db'])
      expect(compose.services[db].image).toBe(`postgres:${major}.${minor}-bookworm`);
  });
});
