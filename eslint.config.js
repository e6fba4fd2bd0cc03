// ESLint for the whole tree (`npm run lint`): typescript-eslint's recommended rules, plus the
// type-aware ones that catch real bugs here (promises nobody awaits or handles, awaiting
// non-promises, throwing non-errors). Formatting is prettier's job (`npm run format`).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['**/node_modules/', 'packages/*/lib/', 'packages/core/schema/', 'test/.tmp/', 'test/harness/guest/', '.data/', 'dist/', 'bench/results/', 'examples/**/node_modules/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: ['packages/*/tsconfig.json', 'scripts/tsconfig.json', 'test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', {checksVoidReturn: {arguments: false, attributes: false}}],
      '@typescript-eslint/await-thenable': 'error',
      // Rethrowing what a catch caught is fine; throwing a string is not.
      '@typescript-eslint/only-throw-error': ['error', {allowThrowingUnknown: true}],
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  {
    // The examples are plugin projects of their own (no tsconfig here): linted without types.
    files: ['examples/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {parserOptions: {project: false}},
  },
  {
    // CommonJS on purpose (mocha reporters load with require()).
    files: ['**/*.cts', '**/*.d.ts'],
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: {globals: {...globals.node}},
    rules: {
      // Tests match exact output: "a  b" reads better than "a {2}b".
      'no-regex-spaces': 'off',
      // `_name` marks what is destructured away on purpose.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true}],
    },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: {globals: {...globals.mocha}},
    rules: {
      // Tests poke at JSON output and fakes.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
)
