// Flat config: typescript-eslint's type-checked rules (floating promises, misused promises, unsafe
// any flows) over every TypeScript file through tsconfig.test.json, which includes src, test and
// bench. The React-free core is kept so by no-restricted-imports, not by a text search.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test-results/ holds what a test run writes (the early build's bundled prepare-vm-cache.mjs among it).
  { ignores: ['dist/', 'node_modules/', 'flake/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['react', 'react/*', 'react-dom', 'ink', 'ink-*'],
              message: 'src/core stays React-free: UI lives in src/ui.',
            },
            { group: ['**/ui/**', '../ui', '../../ui'], message: 'src/core must not depend on src/ui.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^(react|ink)(\\/|-|$)|\\/ui\\//]',
          message: 'src/core stays React-free: UI lives in src/ui.',
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
