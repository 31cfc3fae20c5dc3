// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'generated/**',
      'dist/**',
      'var/**',
      '.cache/**',
      'coverage/**',
      // compiled by tests/integration/openapi-contract.test.ts against the client it generates
      'tests/integration/openapi-client/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clocks, no clients.
    // Activities may only be imported as types (proxyActivities<typeof ...>).
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code may not use Node built-ins.' })),
          patterns: [
            {
              group: ['@prisma/*', '**/generated/**', 'pg'],
              message: 'Workflow code may not touch the database.',
            },
            { group: ['stripe', 'nodemailer', 'smtp-server'], message: 'Side effects belong in activities.' },
            {
              group: ['**/infra/**', '**/services/**', '**/api/**'],
              message: 'Workflows import domain/ and workflow APIs only.',
            },
            {
              group: ['**/activities/**', '**/activities'],
              allowTypeImports: true,
              message: 'Import activity types only.',
            },
            {
              group: ['@temporalio/worker', '@temporalio/client', '@temporalio/activity'],
              message: 'Use @temporalio/workflow in workflow code.',
            },
          ],
        },
      ],
    },
  },
  {
    // docs/architecture.md's import table: domain/ holds pure rules (no I/O, no clock) and imports zod,
    // jsvat-next (the EU countries' VAT-number checksums, pure functions) and other domain/ files only
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!zod$|jsvat-next$|\\./)',
              message: 'domain/ imports zod, jsvat-next and other domain/ files only (docs/architecture.md).',
            },
          ],
        },
      ],
    },
  },
  {
    // infra/ is the bottom layer: libraries, its own files and the generated Prisma client, no other layer
    files: ['infra/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/domain/**',
                '**/workflows/**',
                '**/activities/**',
                '**/services/**',
                '**/api/**',
                '**/cli/**',
                '**/worker',
                '**/main',
              ],
              message:
                'infra/ imports no other layer of the project (docs/architecture.md); take what it needs as a parameter.',
            },
          ],
        },
      ],
    },
  },
  {
    // response bodies from supertest are `any` by design; the assertions are the type check
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
  },
);
