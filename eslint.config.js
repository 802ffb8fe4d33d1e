// ESLint flat config: type-aware rules for the sources, plain recommended rules for tests and scripts.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      'no-restricted-imports': ['error', { patterns: ['@chunkline/*/src/*', '@chunkline/*/dist/*'] }],
    },
  },
  {
    files: ['packages/chunking/src/**/*.ts'],
    rules: {
      // The core is pure: no I/O, no Kafka, no model library (DESIGN.md layout).
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'fs',
            'node:fs',
            'fs/promises',
            'node:fs/promises',
            'kafkajs',
            'avsc',
            'prom-client',
            '@huggingface/transformers',
          ],
          patterns: ['@chunkline/*'],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.mjs', '**/scripts/**/*.mjs'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
