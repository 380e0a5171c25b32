// Lint: TypeScript rules everywhere, and a hard rule that workflows/ stays deterministic
// (no I/O, no Node built-ins), as Temporal's own samples enforce.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util',
  'v8', 'vm', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.zumik/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
      clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly',
      AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly', structuredClone: 'readonly',
      __dirname: 'readonly', require: 'readonly', module: 'writable', setImmediate: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'workflows and domain code must be deterministic: no Node built-ins' })),
          ...nodeBuiltins.map((name) => ({ name: `node:${name}`, message: 'workflows and domain code must be deterministic: no Node built-ins' })),
          ...['pg', 'undici', 'express', 'pino', 'ioredis', 'nats', '@temporalio/client', '@temporalio/worker', '@temporalio/activity']
            .map((name) => ({ name, message: 'workflows and domain code must not do I/O' })),
        ],
        patterns: [{ group: ['**/providers/**', '**/store/**', '**/server/**', '../activities/*', '**/activities/index'],
          message: 'workflows import activity types only (import type), never I/O modules', allowTypeImports: true }],
      }],
    },
  },
);
