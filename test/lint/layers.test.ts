/**
 * The layering rule bites: for every folder of eslint.config.mjs's LAYERS
 * table, an import of a folder it must not use is an error, a type-only
 * import where only types are allowed passes, and an I/O module in a
 * workflow-safe folder is an error. Linted in memory, as files at those paths.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
type Layer = { forbidden: string[]; typesOnly?: string[]; io?: boolean };
interface Probe {
  file: string;
  code: string;
}

/**
 * ESLint loads its flat config with a native import(), which jest's module
 * sandbox cannot do: the probes are linted in one plain Node process, with
 * the repository's real config, and their layering messages come back.
 */
const LINT_SCRIPT = `
const { ESLint } = require('eslint');
const { pathToFileURL } = require('node:url');
const probes = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
(async () => {
  const { LAYERS } = await import(pathToFileURL(process.cwd() + '/eslint.config.mjs').href);
  const eslint = new ESLint({ cwd: process.cwd() });
  const messages = [];
  for (const p of probes) {
    const [r] = await eslint.lintText(p.code, { filePath: process.cwd() + '/' + p.file });
    messages.push(r.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify({ LAYERS, messages }));
})();
`;

function lint(probes: Probe[]): { layers: Record<string, Layer>; messages: string[][] } {
  const out = execFileSync(process.execPath, ['-e', LINT_SCRIPT], { cwd: ROOT, input: JSON.stringify(probes) });
  const { LAYERS, messages } = JSON.parse(out.toString()) as { LAYERS: Record<string, Layer>; messages: string[][] };
  return { layers: LAYERS, messages };
}

const valueImport = (file: string, from: string): Probe => ({
  file,
  code: `import { a } from '${from}';\nexport const b = a;\n`,
});
const typeImport = (file: string, from: string): Probe => ({
  file,
  code: `import type { A } from '${from}';\nexport type B = A;\n`,
});

let layers: Record<string, Layer>;
beforeAll(() => {
  layers = lint([]).layers;
});

/** Lints the probes and pairs each with its number of layering errors. */
function errorsOf(probes: Probe[]): [string, string, number][] {
  const { messages } = lint(probes);
  return probes.map((p, i) => [p.file, p.code.split('\n')[0], messages[i].length]);
}

describe('layers point one way', () => {
  it('lists every top-level folder of code with its rules, and the CLI is imported by none', () => {
    expect(Object.keys(layers).sort()).toEqual(
      [
        'activities',
        'dashboard',
        'deploy',
        'domain',
        'fixtures',
        'plumbing',
        'realLinux',
        'stack',
        'workers',
        'workflows',
      ].sort(),
    );
    for (const [folder, layer] of Object.entries(layers))
      expect([folder, layer.forbidden]).toEqual([folder, expect.arrayContaining(['cli'])]);
  });

  it('refuses a value import of a forbidden folder, at any depth, naming the architecture note', () => {
    const probes = Object.entries(layers).flatMap(([folder, layer]) =>
      layer.forbidden.flatMap((target) => [
        valueImport(`${folder}/x.ts`, `../${target}/thing`),
        valueImport(`${folder}/sub/x.ts`, `../../${target}/sub/thing`),
      ]),
    );
    expect(probes.length).toBeGreaterThan(100);
    const results = errorsOf(probes);
    expect(results.filter(([, , n]) => n !== 1)).toEqual([]);
    expect(lint(probes.slice(0, 1)).messages[0][0]).toMatch(
      /layering: domain\/ must not import this folder \(docs\/architecture\.md\)/,
    );
  });

  it('allows only types from a types-only folder', () => {
    const pairs = Object.entries(layers).flatMap(([folder, layer]) =>
      (layer.typesOnly ?? []).map((target) => [`${folder}/x.ts`, `../${target}/thing`]),
    );
    expect(pairs.length).toBeGreaterThan(5);
    const results = errorsOf(pairs.flatMap(([f, t]) => [typeImport(f, t), valueImport(f, t)]));
    expect(results.map(([, , n]) => n)).toEqual(pairs.flatMap(() => [0, 1]));
  });

  it('keeps I/O modules out of workflow-safe code', () => {
    const io = ['node:fs', 'fs', 'child_process', 'postgres', '@aws-sdk/client-s3', 'nodemailer', '@temporalio/client'];
    const probes = ['domain', 'workflows'].flatMap((folder) => io.map((mod) => valueImport(`${folder}/x.ts`, mod)));
    expect(errorsOf(probes).filter(([, , n]) => n !== 1)).toEqual([]);
    const pure = ['zod', '@temporalio/common', './sibling'].flatMap((mod) =>
      ['domain', 'workflows'].map((f) => valueImport(`${f}/x.ts`, mod)),
    );
    expect(errorsOf(pure).filter(([, , n]) => n !== 0)).toEqual([]);
  });

  it('lets a folder import what is below it', () => {
    const probes = [
      valueImport('workers/x.ts', '../activities/build'),
      valueImport('workers/x.ts', '../dashboard/server'),
      valueImport('activities/labs/x.ts', '../../plumbing/store'),
      valueImport('activities/labs/x.ts', '../report/model'),
      valueImport('dashboard/x.ts', '../plumbing/db/connect'),
      valueImport('plumbing/x.ts', '../domain/ids'),
      valueImport('cli/x.ts', '../workers/process'),
      valueImport('deploy/x.ts', '../stack/netHosts'),
      valueImport('deploy/x.ts', '../activities/labs/qemu'),
    ];
    expect(errorsOf(probes).filter(([, , n]) => n !== 0)).toEqual([]);
  });
});
