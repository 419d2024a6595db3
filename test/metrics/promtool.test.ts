/**
 * The committed alert rules, by Prometheus's own tool: they parse
 * (`promtool check rules`), their unit tests pass (`promtool test rules`:
 * each alert fires on its condition and not otherwise), and a rule file
 * that does not parse is refused in one line that names the file and line.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testDir } from '../harness/services';

const DIR = join(__dirname, '..', '..', 'deploy', 'prometheus');

function promtool(args: string[], cwd = DIR): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/promtool', args, { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('the committed Prometheus alert rules', () => {
  it('parse', async () => {
    const r = await promtool(['check', 'rules', 'alerts.yml']);
    expect(r).toEqual({ code: 0, out: expect.stringContaining('SUCCESS: 5 rules found') });
  });

  it('fire on their conditions and not otherwise (promtool test rules)', async () => {
    const r = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('catch a rule that stops firing: a unit test against a loosened threshold fails', async () => {
    // Guards the guard: were `promtool test rules` to pass whatever the rules said, the test above would prove nothing.
    const dir = await mkdtemp(join(testDir(), 'rules-'));
    const rules = (await readFile(join(DIR, 'alerts.yml'), 'utf8')).replace(
      '> on (lab) max by (lab) (bootfarm_lab_offline_grace_seconds)',
      '> on (lab) 10 * max by (lab) (bootfarm_lab_offline_grace_seconds)',
    );
    await writeFile(join(dir, 'alerts.yml'), rules);
    await copyFile(join(DIR, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
    const r = await promtool(['test', 'rules', 'alerts.test.yml'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED:[\s\S]*alertname: BootfarmLabOffline/);
  });

  it('a rule file that does not parse is one clear error naming the file and the line', async () => {
    const dir = await mkdtemp(join(testDir(), 'rules-'));
    const broken = (await readFile(join(DIR, 'alerts.yml'), 'utf8')).replace(
      'max by (lab) (bootfarm_lab_offline_seconds)',
      'max by (lab) (bootfarm_lab_offline_seconds',
    );
    await writeFile(join(dir, 'alerts.yml'), broken);
    const r = await promtool(['check', 'rules', 'alerts.yml'], dir);
    expect(r.code).toBe(1);
    const errors = r.out.split('\n').filter((l) => /error|FAILED/i.test(l));
    expect(errors.join('\n')).toMatch(
      /alerts\.yml: \d+:\d+: group "bootfarm", rule 1, "BootfarmLabOffline": could not parse expression/,
    );
  });
});
