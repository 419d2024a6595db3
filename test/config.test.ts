import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, applyEnvOverrides } from '../plumbing/loadConfig';
import { testConfigYaml } from './support/testConfig';
import { bootTargets, pipelineSpecFor } from '../domain/pipelineSpec';
import { labAttempts } from '../domain/types';

const valid = readFileSync(join(__dirname, '..', 'bootfarm.yaml'), 'utf8');

function errorOf(text: string, file = 'bad.yaml'): string {
  try {
    parseConfig(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('config was accepted');
}

describe('bootfarm.yaml is validated by a schema on load', () => {
  it('accepts the committed example with its trees, configs, platforms and labs', () => {
    const cfg = parseConfig(valid);
    expect(cfg.trees.length).toBeGreaterThan(0);
    expect(cfg.buildConfigs.length).toBeGreaterThan(0);
    expect(cfg.platforms.length).toBeGreaterThan(0);
    expect(cfg.labs.length).toBeGreaterThanOrEqual(2);
    for (const lab of cfg.labs) expect(lab.scheduleToStartTimeout).toBeGreaterThan(1000);
  });

  it('names the file, the line, the path and what was expected', () => {
    const msg = errorOf(
      'labs:\n  - name: lab1\n    adapter: teleport\n    platforms: [p]\nplatforms:\n  - {name: p, arch: x86_64}\n',
    );
    expect(msg).toMatch(/^bad\.yaml:3: labs\[0\]\.adapter: .*qemu.*/);
  });

  it("refuses a lab's old `retries` key with its line and the new name, and reads `attempts`", () => {
    const lab = (key: string) => testConfigYaml({ labOptions: `${key}: 4` });
    const msg = errorOf(lab('retries'));
    expect(msg).toMatch(
      /^bad\.yaml:8: labs\[0\]\.retries: renamed `attempts` \(the number of tries of a boot, the first included\): write attempts instead$/,
    );
    expect(msg.split('\n')).toHaveLength(1);
    expect(parseConfig(lab('attempts')).labs[0].attempts).toBe(4);
    expect(parseConfig(testConfigYaml()).labs[0].attempts).toBe(3);
    // a boot target made from the config carries attempts; a run started before the rename carries retries
    const cfg = parseConfig(lab('attempts'));
    const [target] = bootTargets(pipelineSpecFor(cfg, 'demo', 'master'), cfg.buildConfigs[0]);
    expect(labAttempts(target.lab)).toBe(4);
    const { attempts: _, ...before } = target.lab;
    expect(labAttempts({ ...before, retries: 5 })).toBe(5);
  });

  it('refuses names with shell metacharacters', () => {
    const msg = errorOf('buildConfigs:\n  - {name: "x; rm -rf /", arch: x86_64, defconfig: defconfig}\n');
    expect(msg).toContain('buildConfigs[0].name');
    expect(errorOf('buildConfigs:\n  - {name: ok, arch: x86_64, defconfig: "$(reboot)"}\n')).toContain(
      'buildConfigs[0].defconfig',
    );
    expect(errorOf('buildConfigs:\n  - {name: ok, arch: "x86_64 -j999", defconfig: defconfig}\n')).toContain(
      'buildConfigs[0].arch',
    );
  });

  it('refuses a platform that no lab has, and references to unknown names', () => {
    expect(errorOf('platforms:\n  - {name: lonely, arch: x86_64}\n')).toContain('platform "lonely" is in no lab');
    expect(errorOf('trees:\n  - {name: t, url: /x, branches: [master], buildConfigs: [nope]}\n')).toContain(
      'trees[0].buildConfigs[0]: unknown build config "nope"',
    );
  });

  it("refuses a platform with no boards, and two boards' queues that would be one", () => {
    const lab = (platforms: string) =>
      `platforms:\n  - {name: p, arch: x86_64}\n  - {name: b-p, arch: x86_64}\nlabs:\n  - {name: l, adapter: qemu, platforms: ${platforms}}\n`;
    expect(errorOf(lab('[{name: p, capacity: 0}, b-p]'))).toBe(
      'bad.yaml:5: labs[0].platforms[0].capacity: at least 1 board: a platform with no boards takes no boot (leave it out of the lab instead)',
    );
    expect(errorOf(lab('[{name: p, capacity: 1.5}, b-p]'))).toMatch(
      /labs\[0\]\.platforms\[0\]\.capacity: a whole number of boards/,
    );
    expect(errorOf(lab('[{name: p, capacity: 1001}, b-p]'))).toMatch(/capacity: at most 1000 boards/);
    expect(errorOf(lab('[p, b-p, {name: p, capacity: 2}]'))).toMatch(
      /labs\[0\]\.platforms\[2\]: platform p is listed twice in lab l: give it one entry with its capacity/,
    );
    // lab "l-b" with platform "p" and lab "l" with platform "b-p" would both poll lab-l-b-p
    const twins =
      'platforms:\n  - {name: p, arch: x86_64}\n  - {name: b-p, arch: x86_64}\nlabs:\n  - {name: l-b, adapter: qemu, platforms: [p]}\n  - {name: l, adapter: qemu, platforms: [b-p]}\n';
    expect(errorOf(twins)).toMatch(
      /labs\[1\]\.platforms\[0\]: platform b-p of lab l and platform p of lab l-b would share the task queue lab-l-b-p: rename one of the labs$/,
    );
  });

  it("refuses a tree's share of the boards outside what Temporal honours", () => {
    const tree = (share: string) =>
      `trees:\n  - {name: t, url: /x, branches: [master], buildConfigs: [c], share: ${share}}\nbuildConfigs:\n  - {name: c, arch: x86_64, defconfig: defconfig}\n`;
    expect(parseConfig(tree('2.5')).trees[0].share).toBe(2.5);
    expect(parseConfig(tree('1000')).trees[0].share).toBe(1000);
    expect(parseConfig(tree('0.001')).trees[0].share).toBe(0.001);
    for (const bad of ['0', '-1', '1001', '0.0001'])
      expect(errorOf(tree(bad))).toBe(
        'bad.yaml:2: trees[0].share: a share from 0.001 to 1000 (relative to other trees; default 1)',
      );
    expect(errorOf(tree('lots'))).toMatch(/^bad\.yaml:2: trees\[0\]\.share: /);
  });

  it('refuses metrics settings out of range, each naming its line and key', () => {
    expect(parseConfig('').metrics).toEqual({
      host: '127.0.0.1',
      port: 9464,
      temporalPort: 9465,
      backlogAlertAge: 900_000,
      infraErrorAlertRatio: 0.25,
    });
    expect(errorOf('metrics:\n  port: 70000\n')).toMatch(/^bad\.yaml:2: metrics\.port: .*65535/);
    expect(errorOf('metrics: { port: 9464, temporalPort: 9464 }\n')).toContain(
      'metrics.temporalPort: the same port as metrics.port (9464): each endpoint needs its own',
    );
    expect(errorOf('metrics:\n  infraErrorAlertRatio: 1.5\n')).toMatch(
      /^bad\.yaml:2: metrics\.infraErrorAlertRatio: a fraction of at most 1$/,
    );
    expect(errorOf('metrics:\n  infraErrorAlertRatio: 0\n')).toContain('a fraction above 0');
    expect(errorOf('metrics:\n  backlogAlertAge: soon\n')).toMatch(/metrics\.backlogAlertAge: invalid duration "soon"/);
    expect(errorOf('metrics:\n  scrapeMe: true\n')).toMatch(/metrics: Unrecognized key.*scrapeMe/);
    // 0 turns an endpoint off.
    expect(parseConfig('metrics: { port: 0, temporalPort: 0 }\n').metrics).toMatchObject({ port: 0, temporalPort: 0 });
  });

  it('reports a YAML syntax error with its position', () => {
    expect(errorOf('trees: [\n  - x\n')).toMatch(/^bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('reads durations in human units', () => {
    const cfg = parseConfig(
      'labs:\n  - {name: l, adapter: qemu, platforms: [p], bootTimeout: 90s, scheduleToStartTimeout: 2m}\nplatforms:\n  - {name: p, arch: x86_64}\n',
    );
    expect(cfg.labs[0].bootTimeout).toBe(90_000);
    expect(cfg.labs[0].scheduleToStartTimeout).toBe(120_000);
    expect(
      errorOf(
        'labs:\n  - {name: l, adapter: qemu, platforms: [p], bootTimeout: soon}\nplatforms:\n  - {name: p, arch: x86_64}\n',
      ),
    ).toContain('labs[0].bootTimeout: invalid duration');
  });

  it('lets the environment override connection settings', () => {
    const cfg = applyEnvOverrides(parseConfig(''), {
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'kernel',
      DATABASE_URL: 'postgres://u:p@db/bf',
      SMTP_URL: 'smtp://mail:25',
      S3_ENDPOINT: 'http://minio:9000',
      S3_BUCKET: 'art',
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
    });
    expect(cfg.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'kernel' });
    expect(cfg.database.url).toBe('postgres://u:p@db/bf');
    expect(cfg.email.smtpUrl).toBe('smtp://mail:25');
    expect(cfg.artifacts).toEqual({
      kind: 's3',
      endpoint: 'http://minio:9000',
      bucket: 'art',
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
    });
  });

  it('resolves relative paths against the config file, and says when the file is unreadable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bf-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), 'dataDir: state\n');
    expect(loadConfig(join(dir, 'c.yaml'), {}).dataDir).toBe(join(dir, 'state'));
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/missing\.yaml: cannot read: ENOENT/);
  });
});
