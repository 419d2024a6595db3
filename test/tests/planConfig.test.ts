/**
 * Test plans in bootfarm.yaml: what `config check` refuses (each problem one
 * line with file, line and path), and what a valid plan turns into on each
 * boot target of a pipeline.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../plumbing/loadConfig';
import { bootTargets, pipelineSpecFor } from '../../domain/pipelineSpec';
import { bootTests, testsKernelArg } from '../../domain/testPlans';

const BASE = `
buildConfigs:
  - { name: x86, arch: x86_64, defconfig: defconfig }
  - { name: a64, arch: arm64, defconfig: defconfig }
  - { name: a32, arch: arm, defconfig: multi_v7_defconfig }
platforms:
  - { name: qemu-x86, arch: x86_64 }
  - { name: qemu-a64, arch: arm64 }
  - { name: qemu-a32, arch: arm }
labs:
  - { name: q, adapter: qemu, platforms: [qemu-x86, qemu-a64, qemu-a32] }
testSuites:
  - { name: timers, prefix: kselftest, arches: [x86_64, arm64] }
  - { name: size, prefix: kselftest, arches: [x86_64, arm64, arm] }
  - { name: string, prefix: fixture, arches: [x86_64, arm] }
`;

const tree = (plans: string) =>
  `trees:\n  - { name: t, url: /x, branches: [master], buildConfigs: [x86, a64, a32], testPlans: ${plans} }\n`;

function errorOf(text: string): string {
  try {
    parseConfig(text, 'plans.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('config was accepted');
}

describe('test plans in the config', () => {
  it('refuses a plan naming a suite that does not exist for the arch of a platform it would run on', () => {
    const msg = errorOf(`${BASE}testPlans:\n  - { name: kselftest-timers, suites: [size, timers] }\n${tree('[]')}`);
    expect(msg).toBe(
      'plans.yaml:17: testPlans[0].suites[1]: plan "kselftest-timers": suite "timers" does not exist for arm ' +
        '(platform qemu-a32); it exists for x86_64, arm64: limit the plan with platforms: or configs:',
    );
    // limited to the platforms that have it, or to configs of their arches: accepted
    expect(() =>
      parseConfig(
        `${BASE}testPlans:\n  - { name: p, suites: [timers], platforms: [qemu-x86, qemu-a64] }\n${tree('[p]')}`,
      ),
    ).not.toThrow();
    expect(() =>
      parseConfig(`${BASE}testPlans:\n  - { name: p, suites: [timers], configs: [x86, a64] }\n${tree('[p]')}`),
    ).not.toThrow();
  });

  it('refuses unknown suites, platforms and configs in a plan, and a suite listed twice', () => {
    const msg = errorOf(
      `${BASE}testPlans:\n  - { name: p, suites: [size, sizes, size], platforms: [qemu-x86, qemu-x87], configs: [x86, x87] }\n`,
    );
    const lines = msg.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /testPlans\[0\]\.platforms\[1\]: plan "p": unknown platform "qemu-x87" \(known: "qemu-x86"/,
        ),
        expect.stringMatching(/testPlans\[0\]\.configs\[1\]: plan "p": unknown build config "x87"/),
        expect.stringMatching(
          /testPlans\[0\]\.suites\[1\]: plan "p": unknown test suite "sizes" \(testSuites: "timers", "size", "string"\)/,
        ),
        expect.stringMatching(/testPlans\[0\]\.suites\[2\]: plan "p": suite "size" is listed twice/),
      ]),
    );
    for (const line of lines) expect(line).toMatch(/^plans\.yaml:\d+: /);
  });

  it('refuses a tree naming an unknown plan, or one plan twice', () => {
    const msg = errorOf(`${BASE}testPlans:\n  - { name: smoke, suites: [size] }\n${tree('[smoke, smoky, smoke]')}`);
    expect(msg).toContain('trees[0].testPlans[1]: tree "t": unknown test plan "smoky" (testPlans: "smoke")');
    expect(msg).toContain('trees[0].testPlans[2]: tree "t": plan "smoke" is listed twice');
  });

  it('refuses timeouts out of range, and plans that would keep one boot for more than 12 hours', () => {
    for (const timeout of ['1s', '7h', '0', '-5'])
      expect(errorOf(`${BASE}testPlans:\n  - { name: p, suites: [size], timeout: ${timeout} }\n`)).toMatch(
        /testPlans\[0\]\.timeout: /,
      );
    expect(errorOf(`${BASE}testPlans:\n  - { name: p, suites: [size], timeout: 7h }\n`)).toContain(
      'a timeout from 5s to 6h',
    );
    expect(errorOf(`${BASE}testPlans:\n  - { name: p, suites: [size], timeout: soon }\n`)).toContain(
      'invalid duration "soon"',
    );
    const long = `${BASE}testPlans:\n  - { name: a, suites: [size], timeout: 6h }\n  - { name: b, suites: [timers], timeout: 6h, configs: [x86] }\n  - { name: c, suites: [string], timeout: 1m, configs: [x86] }\n`;
    expect(errorOf(`${long}${tree('[a, b, c]')}`)).toContain(
      'trees[0].testPlans: tree "t": the plans for x86 on qemu-x86 take 43260s after one boot, more than 12h',
    );
  });

  it('refuses suite names and prefixes that are not test path segments', () => {
    expect(errorOf(`${BASE.replace('name: size,', 'name: "size;rm",')}`)).toContain('testSuites[1].name');
    expect(errorOf(`${BASE.replace('prefix: fixture', 'prefix: "fix ture"')}`)).toContain('testSuites[2].prefix');
  });

  it("gives each boot target the suites of the tree's plans that apply to it, each suite once, with the sum of their timeouts", () => {
    const cfg = parseConfig(
      `${BASE}testPlans:\n` +
        `  - { name: smoke, suites: [size], timeout: 1m }\n` +
        `  - { name: kselftest-timers, suites: [timers, size], timeout: 5m, platforms: [qemu-x86, qemu-a64] }\n` +
        `  - { name: unused, suites: [string], configs: [x86, a32] }\n` +
        tree('[smoke, kselftest-timers]'),
    );
    const spec = pipelineSpecFor(cfg, 't', 'master');
    const tests = (config: string) =>
      Object.fromEntries(
        bootTargets(spec, cfg.buildConfigs.find((c) => c.name === config)!).map((t) => [t.platform.name, t.tests]),
      );
    expect(tests('x86')).toEqual({
      'qemu-x86': {
        suites: [
          { plan: 'smoke', suite: 'size', prefix: 'kselftest' },
          { plan: 'kselftest-timers', suite: 'timers', prefix: 'kselftest' },
        ],
        timeoutMs: 360_000,
      },
    });
    expect(tests('a32')).toEqual({
      'qemu-a32': { suites: [{ plan: 'smoke', suite: 'size', prefix: 'kselftest' }], timeoutMs: 60_000 },
    });
    expect(testsKernelArg(tests('x86')['qemu-x86']!)).toBe('bootfarm.tests=size,timers');
    // a tree without plans: targets as before, without tests
    const plain = parseConfig(`${BASE}${tree('[]')}`);
    expect(bootTargets(pipelineSpecFor(plain, 't', 'master'), plain.buildConfigs[0])[0]).not.toHaveProperty('tests');
    expect(bootTests(undefined, { name: 'x86', arch: 'x86_64' }, { name: 'qemu-x86', arch: 'x86_64' })).toBeUndefined();
  });

  it("accepts the committed bootfarm.yaml's plans", () => {
    const cfg = parseConfig(readFileSync(join(__dirname, '../../bootfarm.yaml'), 'utf8'));
    expect(cfg.testPlans.map((p) => p.name)).toContain('smoke');
    expect(cfg.trees.find((t) => t.name === 'demo')!.testPlans).toEqual(['smoke']);
  });
});
