// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'drizzle/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: it may only import the workflow SDK,
    // pure domain code and *types* from activities. Anything else breaks replay or the bundle.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflows must not import Node built-ins.' },
            { group: ['**/src/db/**', 'drizzle-orm', 'drizzle-orm/*', 'pg'], message: 'Workflows must not touch the database.' },
            { group: ['**/src/mail/**', 'resend', 'nodemailer'], message: 'Workflows must not call providers; use an activity.' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows may import only @temporalio/workflow.' },
            { group: ['**/src/config*', '**/src/api/**', '**/src/embedded/**'], message: 'Workflows must stay deterministic and dependency-free.' },
          ],
          paths: ['fs', 'path', 'crypto', 'http', 'https', 'os', 'child_process', 'net', 'url', 'util', 'events', 'stream', 'zlib'].map((name) => ({
            name,
            message: 'Workflows must not import Node built-ins.',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflows must not read process state.' }],
    },
  },
);
