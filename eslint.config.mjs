import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** An import that climbs to the repository root and enters one of `folders`. */
const into = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;
const IO_MODULES = [
  '^node:',
  '^(fs|child_process|net|http|https|os|path|crypto)$',
  '^postgres$',
  '^@aws-sdk/',
  '^nodemailer',
  '^@temporalio/(client|worker|activity)$',
  '^yaml$',
];
const ABOVE_PLUMBING = [
  'activities',
  'workflows',
  'workers',
  'dashboard',
  'cli',
  'stack',
  'realLinux',
  'bench',
  'test',
  'deploy',
];

/**
 * Which top-level folders each folder must not import (values), and which it may import only as types.
 * The one table of the layering; test/lint/layers.test.ts proves each line bites.
 */
export const LAYERS = {
  domain: { forbidden: ['plumbing', 'fixtures', ...ABOVE_PLUMBING], io: true },
  plumbing: {
    forbidden: ['activities', 'workers', 'dashboard', 'cli', 'stack', 'realLinux', 'bench', 'test', 'deploy'],
    typesOnly: ['workflows'],
  },
  fixtures: { forbidden: ['plumbing', ...ABOVE_PLUMBING] },
  activities: {
    forbidden: ['workers', 'dashboard', 'cli', 'stack', 'realLinux', 'bench', 'test', 'deploy'],
    typesOnly: ['workflows'],
  },
  workflows: {
    forbidden: ['workers', 'dashboard', 'cli', 'stack', 'realLinux', 'fixtures', 'bench', 'test', 'deploy'],
    typesOnly: ['plumbing', 'activities'],
    io: true,
  },
  dashboard: {
    forbidden: ['activities', 'workers', 'cli', 'stack', 'realLinux', 'bench', 'test', 'deploy'],
    typesOnly: ['workflows'],
  },
  stack: {
    forbidden: ['activities', 'workers', 'dashboard', 'cli', 'realLinux', 'bench', 'test', 'deploy'],
    typesOnly: ['workflows'],
  },
  realLinux: {
    forbidden: ['activities', 'workers', 'dashboard', 'cli', 'bench', 'test', 'deploy'],
    typesOnly: ['workflows'],
  },
  workers: { forbidden: ['cli', 'bench', 'test', 'deploy'] },
  // the deployment: its table, the hosts it runs on this machine, and the small programs of its hosts
  deploy: { forbidden: ['workers', 'cli', 'bench', 'test'], typesOnly: ['workflows'] },
};

function layerRules() {
  return Object.entries(LAYERS).map(([folder, { forbidden, typesOnly = [], io = false }]) => ({
    files: [`${folder}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: into(forbidden),
              message: `layering: ${folder}/ must not import this folder (docs/architecture.md)`,
            },
            ...(typesOnly.length
              ? [
                  {
                    regex: into(typesOnly),
                    allowTypeImports: true,
                    message: `${folder}/ may import only types from here (docs/architecture.md)`,
                  },
                ]
              : []),
            ...(io
              ? [
                  {
                    regex: IO_MODULES.join('|'),
                    message: `${folder}/ is workflow-safe: no I/O modules (docs/architecture.md)`,
                  },
                ]
              : []),
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.bootfarm/**', 'coverage/**', 'dashboard/static/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // Layers point one way (docs/architecture.md): domain ← plumbing ← activities ← workers ← cli.
  // A folder may import only from the layers below it; `import type` of a higher layer is allowed
  // where a lower layer must name a shape that is defined above it (a workflow's activity types).
  ...layerRules(),
  {
    // Workflow code must stay deterministic: no wall clock, no randomness (imports are in layerRules).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch'],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random' },
        { object: 'Date', property: 'now' },
      ],
    },
  },
);
