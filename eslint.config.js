// Type-aware lint for the whole tree. Style is prettier's; these rules catch hazards.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '**/testdata/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read the environment only in command.ts files and dev/ (pass config down instead)' },
      ],
    },
  },
  {
    // The entrypoints that parse flags and the environment, the dev harness, and tests may read process.env.
    files: ['**/command.ts', 'dev/**', 'bench/**', 'e2e/**', '**/*.test.ts', '**/*.e2e.ts', 'bin/**', 'cli/main.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Tests and benchmarks may assert long expected messages verbatim.
    files: ['**/*.test.ts', '**/*.e2e.ts', 'bench/**'],
    rules: { 'max-len': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
