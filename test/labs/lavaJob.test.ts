/**
 * LAVA job definitions rendered from the repository's templates (no LAVA
 * server needed: test/slow/lava.test.ts submits them to a real one).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { platformSchema, type PlatformConfig } from '../../domain/config';
import type { BootRequest } from '../../domain/types';
import { endPattern, jobTemplatePath, pythonRegex, renderLavaJob, renderTemplate } from '../../activities/labs/lavaJob';

const platform = (over: Partial<PlatformConfig> = {}): PlatformConfig =>
  platformSchema.parse({ name: 'qemu-x86_64', arch: 'x86_64', ...over });

function request(over: Partial<BootRequest> = {}): BootRequest {
  return {
    tree: 'mainline',
    sha: 'c'.repeat(40),
    describe: 'v6.1-rc3-12-gcccccccccccc',
    configName: 'x86_64-defconfig',
    arch: 'x86_64',
    platform: platform(),
    lab: 'lava',
    kernel: { key: 'builds/k/bzImage', size: 1 },
    timeoutMs: 90_000,
    bootKey: 'build:mainline:cccccccccccc:x86_64-defconfig/qemu-x86_64/lava',
    ...over,
  };
}

interface Job {
  device_type: string;
  job_name: string;
  metadata: Record<string, string>;
  timeouts: { job: { seconds: number } };
  context: Record<string, unknown>;
  actions: {
    deploy?: { images: Record<string, { url: string; image_arg: string }> };
    test?: { timeout: { seconds: number }; monitors: { start: string; end: string; pattern: string }[] };
  }[];
}

const urls = { kernel: 'http://127.0.0.1:9/t/kernel', ramdisk: 'http://127.0.0.1:9/t/ramdisk' };

describe('LAVA job templates', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bf-lavajob-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the default x86_64 job boots the served kernel and ramdisk on LAVA qemu and watches for the platform patterns', async () => {
    const req = request({ platform: platform({ kernelArgs: 'bootfarm.mode=pass', memoryMb: 384 }) });
    const job = parse(await renderLavaJob(req, urls)) as Job;
    expect(job.device_type).toBe('qemu');
    expect(job.job_name).toBe('bootfarm mainline v6.1-rc3-12-gcccccccccccc x86_64-defconfig qemu-x86_64');
    expect(job.metadata['bootfarm.platform']).toBe('qemu-x86_64');
    expect(job.context).toMatchObject({ arch: 'amd64', no_kvm: true, memory: 384 });
    const images = job.actions[0].deploy!.images;
    expect(images.kernel).toEqual({
      url: urls.kernel,
      image_arg: '-kernel {kernel} -append "console=ttyS0,115200 bootfarm.mode=pass"',
    });
    expect(images.initrd).toEqual({ url: urls.ramdisk, image_arg: '-initrd {initrd}' });
    const test = job.actions[2].test!;
    expect(test.timeout.seconds).toBe(90);
    expect(job.timeouts.job.seconds).toBeGreaterThan(90);
    expect(test.monitors[0].end).toBe('BOOTFARM: boot ok|Kernel panic|Oops:|BUG:|No working init found');
  });

  it('a boot without a ramdisk has no initrd image; arm64 gets its machine and a dtb when there is one', async () => {
    const noRamdisk = parse(await renderLavaJob(request(), { kernel: urls.kernel })) as Job;
    expect(Object.keys(noRamdisk.actions[0].deploy!.images)).toEqual(['kernel']);
    const arm = parse(
      await renderLavaJob(request({ arch: 'arm64', platform: platform({ name: 'qemu-arm64', arch: 'arm64' }) }), {
        kernel: urls.kernel,
        dtb: 'http://127.0.0.1:9/t/dtb',
      }),
    ) as Job;
    expect(arm.context).toMatchObject({ arch: 'arm64', machine: 'virt', cpu: 'cortex-a57' });
    expect(arm.actions[0].deploy!.images.kernel.image_arg).toContain('console=ttyAMA0,115200');
    expect(arm.actions[0].deploy!.images.dtb).toEqual({ url: 'http://127.0.0.1:9/t/dtb', image_arg: '-dtb {dtb}' });
  });

  it('values are scalars: a describe string cannot add keys to the job', async () => {
    const job = parse(await renderLavaJob(request({ describe: 'v1"\nvisibility: {group: [x]}\n#' }), urls)) as Job &
      Record<string, unknown>;
    expect(job.metadata['bootfarm.describe']).toBe('v1"\nvisibility: {group: [x]}\n#');
    expect(job.visibility).toBe('public');
  });

  it("kernel arguments that would escape LAVA's QEMU command line are refused", async () => {
    for (const kernelArgs of ['root=/dev/sda" -device foo', 'a={kernel}', 'x=$(reboot)'])
      await expect(renderLavaJob(request({ platform: platform({ kernelArgs }) }), urls)).rejects.toThrow(
        /kernelArgs for a LAVA lab may not contain/,
      );
  });

  it('a lab template directory is searched for <platform>.yaml.tmpl, then <arch>.yaml.tmpl', async () => {
    const templates = join(dir, 'templates');
    await mkdir(templates);
    await writeFile(join(templates, 'x86_64.yaml.tmpl'), 'device_type: qemu\njob_name: {{ job_name }}\nactions: []\n');
    await writeFile(
      join(templates, 'board-7.yaml.tmpl'),
      '# board 7 is a real {{ board }}\ndevice_type: beaglebone-black\njob_name: x\nactions: [{deploy: {url: {{ kernel_url }}}}]\n',
    );
    expect(await jobTemplatePath(templates, 'board-7', 'x86_64')).toBe(join(templates, 'board-7.yaml.tmpl'));
    expect(await jobTemplatePath(templates, 'other', 'x86_64')).toBe(join(templates, 'x86_64.yaml.tmpl'));
    await expect(jobTemplatePath(templates, 'other', 'arm64')).rejects.toThrow(
      /no LAVA job template for platform other/,
    );
    // the opening comment block documents the template and is not rendered
    const bbb = parse(
      await renderLavaJob(request({ platform: platform({ name: 'board-7' }) }), urls, templates),
    ) as Job;
    expect(bbb.device_type).toBe('beaglebone-black');
  });

  it('an unknown variable or a block written inline is an error, not an empty string', () => {
    expect(() => renderTemplate('a: {{ nope }}\n', {})).toThrow(/unknown template variable "nope"/);
    expect(() => renderTemplate('a: {{#x}}b{{/x}}\n', { x: 'y' })).toThrow(/blocks take whole lines/);
    expect(renderTemplate('a: 1\n  {{#x}}\nb: {{ x }}\n  {{/x}}\nc: 2\n', { x: '' })).toBe('a: 1\nc: 2\n');
  });

  it('console patterns become Python regular expressions for LAVA monitors', () => {
    expect(pythonRegex('Oops: [#1]')).toBe('Oops: \\[#1\\]');
    expect(pythonRegex('/login: ?$/')).toBe('login: ?$');
    expect(pythonRegex('/welcome/i')).toBe('(?i:welcome)');
    expect(endPattern({ successPattern: 'ok (1)', failurePatterns: ['BUG:'] })).toBe('ok \\(1\\)|BUG:');
  });
});
