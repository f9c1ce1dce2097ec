// Lint for the whole tree. Typed rules (floating promises) everywhere; workflow code may not
// import Node built-ins or stripe (it runs in Temporal's deterministic sandbox); no package
// reaches into another's src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '.data/**', '**/*.config.*', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['@stripe-flows/*/src/*', '**/packages/*/src/*'], message: 'Import a package through its exports, never its src/.' }] }],
    },
  },
  {
    files: ['packages/*/src/workflows/**/*.ts', 'packages/core/src/workflow/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins.map((name) => ({ name, message: 'Workflow code runs in the Temporal sandbox: no Node built-ins.' })),
          { name: 'stripe', message: 'Workflow code never calls Stripe: use an activity.', allowTypeImports: true },
          { name: '@stripe-flows/core', message: 'Workflow code imports @stripe-flows/core/workflow (sandbox-safe), not the Node-side root.', allowTypeImports: true },
          { name: '@stripe-flows/testing', message: 'Workflow code never imports test helpers.' },
          { name: 'zod', message: 'Workflow code receives projections already validated by the receiver.', allowTypeImports: true }],
        patterns: [{ group: ['@stripe-flows/*/src/*'], message: 'Import a package through its exports, never its src/.' }],
      }],
    },
  },
);
