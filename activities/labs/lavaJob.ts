/**
 * LAVA job definitions from templates. A template is a YAML file with
 * `{{ name }}` placeholders (replaced by a quoted YAML scalar, or a JSON
 * flow collection for a list, so no value can change the document's
 * structure) and blocks between standalone lines `{{#name}}` … `{{/name}}`,
 * kept only when `name` is set (`{{^name}}` … `{{/name}}`: only when it is
 * not); blocks may nest. The comment lines
 * that open a template document it and are left out of the job. Templates
 * are named `.yaml.tmpl`: they are not YAML until rendered. The defaults are
 * labs/lava/jobs/<arch>.yaml.tmpl; a lab points `lava.jobTemplate` at its
 * own file, or at a directory of `<platform>.yaml.tmpl` / `<arch>.yaml.tmpl`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { archInfo } from '../../domain/archs';
import type { PlatformConfig } from '../../domain/config';
import type { BootRequest } from '../../domain/types';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../../domain/errors';
import { lavaTestDefinitions } from './lavaTests';

export const DEFAULT_JOB_TEMPLATES = resolve(__dirname, '../../labs/lava/jobs');

/** The prompt of the shell a rootfs that runs test plans ends in (busybox's as root), which LAVA's boot waits for. */
export const SHELL_PROMPT = '/ # ';

/** a list (LAVA test definitions) is rendered as JSON, which YAML reads as a flow sequence */
export type TemplateValue = string | number | readonly unknown[];
export type TemplateVars = Record<string, TemplateValue>;

const SECTION = /^[ \t]*\{\{([#^])\s*(\w+)\s*\}\}[ \t]*\r?\n([\s\S]*?)^[ \t]*\{\{\/\s*\2\s*\}\}[ \t]*(?:\r?\n|$)/gm;
const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

function lookup(vars: TemplateVars, name: string): TemplateValue {
  if (!Object.hasOwn(vars, name)) throw new Error(`unknown template variable ${JSON.stringify(name)}`);
  return vars[name];
}

/** The comment block that opens a template documents it (and may show the syntax): it is not rendered. */
const HEADER = /^(?:[ \t]*#.*\r?\n)+/;

/** Renders the template syntax described above; an unknown name is an error, not an empty string. */
export function renderTemplate(template: string, vars: TemplateVars): string {
  const set = (name: string) => {
    const value = lookup(vars, name);
    return Array.isArray(value) ? value.length > 0 : Boolean(value);
  };
  let withSections = template.replace(HEADER, '');
  // inner blocks of a kept block are resolved by the next round
  for (let before = ''; before !== withSections; ) {
    before = withSections;
    withSections = withSections.replace(SECTION, (_all, kind: string, name: string, body: string) =>
      set(name) === (kind === '#') ? body : '',
    );
  }
  if (/\{\{\s*[#^/]/.test(withSections)) throw new Error('unbalanced or inline {{#…}} block (blocks take whole lines)');
  // JSON strings and numbers are YAML flow scalars: a value is always one scalar
  return withSections.replace(PLACEHOLDER, (_all, name: string) => JSON.stringify(lookup(vars, name)));
}

/** A console pattern (substring, or `/regexp/flags`) as a Python regular expression for LAVA's monitors. */
export function pythonRegex(pattern: string): string {
  const re = /^\/(.+)\/([dgimsuy]*)$/s.exec(pattern);
  if (re) return re[2].includes('i') ? `(?i:${re[1]})` : re[1];
  return pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The monitor's end: the success pattern or any failure pattern, whichever the console shows first. */
export function endPattern(platform: Pick<PlatformConfig, 'successPattern' | 'failurePatterns'>): string {
  return [platform.successPattern, ...platform.failurePatterns].map(pythonRegex).join('|');
}

/** LAVA formats image_arg with str.format and runs QEMU through a shell: no quotes or braces in the command line. */
// eslint-disable-next-line no-control-regex
const SAFE_KERNEL_ARGS = /^[^"'`\\{}$\x00-\x1f\x7f]*$/;

export interface JobUrls {
  kernel: string;
  ramdisk?: string;
  dtb?: string;
}

export function lavaJobVars(req: BootRequest, urls: JobUrls): TemplateVars {
  const arch = archInfo(req.arch);
  // with a plan, LAVA's test shell runs it: Bootfarm's ramdisks end in a shell on bootfarm.shell
  const kernelArgs = [
    `console=${arch.qemu.console},115200`,
    req.platform.kernelArgs.trim(),
    req.tests ? 'bootfarm.shell' : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (!SAFE_KERNEL_ARGS.test(kernelArgs))
    throw nonRetryable(
      ErrorType.invalidInput,
      `platform ${req.platform.name}: kernelArgs for a LAVA lab may not contain quotes, braces, backslashes, $ or control characters`,
    );
  const bootTimeoutS = Math.max(30, Math.ceil(req.timeoutMs / 1000));
  const testsTimeoutS = req.tests ? Math.ceil(req.tests.timeoutMs / 1000) : 0;
  if (req.tests && !urls.ramdisk)
    throw nonRetryable(
      ErrorType.invalidInput,
      `platform ${req.platform.name}: a LAVA boot with tests needs a ramdisk (LAVA adds its test shell to it)`,
    );
  return {
    job_name: `bootfarm ${req.tree} ${req.describe} ${req.configName} ${req.platform.name}`.slice(0, 200),
    tree: req.tree,
    describe: req.describe,
    sha: req.sha,
    config: req.configName,
    platform: req.platform.name,
    arch: req.arch,
    boot_key: req.bootKey,
    kernel_url: urls.kernel,
    ramdisk_url: urls.ramdisk ?? '',
    dtb_url: urls.dtb ?? '',
    kernel_args: kernelArgs,
    qemu_kernel_arg: `-kernel {kernel} -append "${kernelArgs}"`,
    console: arch.qemu.console,
    memory_mb: req.platform.memoryMb,
    boot_timeout_s: bootTimeoutS,
    // downloads, QEMU start and LAVA's own bookkeeping come on top of the boot and its tests
    job_timeout_s: bootTimeoutS + testsTimeoutS + 300,
    success_pattern: pythonRegex(req.platform.successPattern),
    end_pattern: endPattern(req.platform),
    // the test plan (activities/labs/lavaTests.ts): inline definitions run in the shell the rootfs ends in
    test_definitions: req.tests ? lavaTestDefinitions(req.tests) : [],
    tests_timeout_s: testsTimeoutS,
    shell_prompt: SHELL_PROMPT,
  };
}

/** The template file for a platform: `jobTemplate` as a file, or `<platform>.yaml.tmpl` then `<arch>.yaml.tmpl` in a directory. */
export async function jobTemplatePath(
  jobTemplate: string | undefined,
  platform: string,
  arch: string,
): Promise<string> {
  const base = resolve(jobTemplate ?? DEFAULT_JOB_TEMPLATES);
  const st = await stat(base).catch(() => undefined);
  if (st?.isFile()) return base;
  const candidates = [join(base, `${platform}.yaml.tmpl`), join(base, `${arch}.yaml.tmpl`)];
  if (st?.isDirectory())
    for (const file of candidates) if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  throw nonRetryable(
    ErrorType.invalidInput,
    `no LAVA job template for platform ${platform}: tried ${st?.isDirectory() ? candidates.join(', ') : base}`,
  );
}

/** The job definition (YAML text) LAVA receives for this boot. */
export async function renderLavaJob(req: BootRequest, urls: JobUrls, jobTemplate?: string): Promise<string> {
  const path = await jobTemplatePath(jobTemplate, req.platform.name, req.arch);
  let definition: string;
  let doc: unknown;
  try {
    definition = renderTemplate(await readFile(path, 'utf8'), lavaJobVars(req, urls));
    doc = parse(definition);
  } catch (e) {
    if (e instanceof ApplicationFailure) throw e;
    throw nonRetryable(ErrorType.invalidInput, `LAVA job template ${path}: ${(e as Error).message}`);
  }
  const job = doc as { device_type?: unknown; actions?: unknown } | null;
  if (!job || typeof job.device_type !== 'string' || !Array.isArray(job.actions))
    throw nonRetryable(
      ErrorType.invalidInput,
      `LAVA job template ${path} does not render to a job (device_type and actions)`,
    );
  return definition;
}
