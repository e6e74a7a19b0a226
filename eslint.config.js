// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'web/dist/**', 'drizzle/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: an allowlist, not a list of known bad
    // modules. A workflow file may import the workflow SDK, pure domain code, other workflow files
    // (contracts included) and only *types* from activities; anything else (a logger, a database
    // client, an activity's code) breaks replay or the bundle.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Everything but the allowed sources (activities/ is checked by the next pattern).
              // A `..` segment further in could climb back out of an allowed folder, so it is refused too.
              regex: '^(?!@temporalio/workflow$|\\./[^/]+$|\\.\\./src/domain/|\\.\\./activities/[^/]+$)|/\\.\\./',
              message: 'Workflows may import only @temporalio/workflow, src/domain/**, other workflow files and types from activities/.',
            },
            {
              regex: '^\\.\\./activities/',
              allowTypeImports: true,
              message: 'Workflows may import only types from activities/ (use `import type`).',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflows must not read process state.' }],
    },
  },
);
