import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONNECTION_ENV_VARS, SHARED_CONNECTION_ENV_VARS, TEMPORAL_ENV_VARS } from '../domain/envVars';

const root = join(__dirname, '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { image?: string; environment?: Record<string, string>; ports?: string[]; command?: unknown }
  >;
};
const services = Object.entries(compose.services);
const bootfarmServices = services.filter(([, s]) => s.image?.startsWith('bootfarm/'));

/** Variables read from process.env by the code that loads connection settings. */
function envVarsReadBy(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
  }
  return names;
}

describe('docker-compose.yml describes a real multi-host deployment', () => {
  it('has every part of the deployment', () => {
    const names = services.map(([n]) => n);
    for (const want of [
      'temporal',
      'temporal-db',
      'temporal-ui',
      'temporal-setup',
      'results-db',
      'minio',
      'mailpit',
      'orchestrator',
      'builder',
      'lab-qemu',
      'dashboard',
    ])
      expect(names).toContain(want);
    expect(compose.services.temporal.image).toMatch(/auto-setup/);
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

  // Which secrets each service holds is domain/serviceSecrets.ts; the compose file is to follow it (issue 14).
  it('sets every shared connection variable the services read, in every Bootfarm service', () => {
    const read = envVarsReadBy(['plumbing/loadConfig.ts', 'cli/context.ts']);
    read.delete('AWS_ACCESS_KEY_ID');
    read.delete('AWS_SECRET_ACCESS_KEY');
    const known: string[] = [...CONNECTION_ENV_VARS, ...TEMPORAL_ENV_VARS];
    expect([...read].filter((v) => !known.includes(v))).toEqual([]);
    expect(bootfarmServices.length).toBeGreaterThanOrEqual(4);
    for (const [name, s] of bootfarmServices) {
      for (const v of SHARED_CONNECTION_ENV_VARS)
        expect({ name, v, set: Boolean(s.environment?.[v]) }).toEqual({ name, v, set: true });
    }
  });

  it('publishes no host port twice', () => {
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => String(p).split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("registers all of Bootfarm's search attributes in its one-shot job", () => {
    const script = JSON.stringify(compose.services['temporal-setup'].command);
    for (const sa of ['BfTree', 'BfBranch', 'BfCommit', 'BfConfig', 'BfPlatform', 'BfLab', 'BfKind', 'BfResult'])
      expect(script).toContain(sa);
  });
});
